/**
 * The service's layers (docs/architecture.md): dependencies point inward. The domain declares the
 * ports it needs (service/src/domain/ports.ts); data/, cache/ and http/ implement or use them and
 * import the domain, never the reverse. `make lint` runs this; a violation fails the build.
 */
module.exports = {
  forbidden: [
    {
      name: 'domain-depends-on-nothing-outside',
      comment: 'The domain owns its ports: it never imports an adapter, the HTTP layer, auth, config or the wiring.',
      severity: 'error',
      from: { path: '^service/src/domain/' },
      to: { path: '^service/src/', pathNot: '^service/src/domain/' },
    },
    {
      name: 'adapters-do-not-import-http',
      comment: 'Stores and auth raise their own errors; only http/ speaks HTTP.',
      severity: 'error',
      from: { path: '^service/src/(data|cache|auth)/' },
      to: { path: '^service/src/http/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^service/src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
