/**
 * The programs of service/src and the layers of the API (docs/architecture.md). `make lint` runs
 * this; a violation fails the build (tests/static/architecture.test.ts shows one failing).
 *
 *   main.ts                     dispatches to each program's command module, nothing else
 *   api/ kong-sync/ loader/ cluster/   the four programs: each imports only itself, the shared
 *                               clients (clients/) and shared/ (config parsing, the logger)
 *   clients/                    JSON over HTTP, the Kubernetes API, Kong's Admin API
 *   shared/                     imports nothing of the others
 * Around it: tooling/ (the TypeScript tools behind make's generators and checks) and tests/ import
 * service/src; service/src imports neither, and tooling/ never imports tests/.
 * Inside the API, dependencies point inward: the domain owns its ports (api/domain/ports.ts) and
 * imports nothing outside itself; data/, cache/ and auth/ never import http/.
 */
const SRC = '^service/src/';
const onlyItself = (folder, ...allowed) => ({
  name: `${folder}-imports-only-itself${allowed.length ? `-${allowed.join('-')}` : ''}`,
  comment: `${folder}/ imports only itself${allowed.length ? ` and ${allowed.map((name) => `${name}/`).join(', ')}` : ''}.`,
  severity: 'error',
  from: { path: `${SRC}${folder}/` },
  to: { path: SRC, pathNot: `${SRC}(${[folder, ...allowed].join('|')})/` },
});

module.exports = {
  forbidden: [
    {
      name: 'main-only-dispatches',
      comment: 'main.ts knows each program by its description (program.ts) only: a command loads its own program, not the others.',
      severity: 'error',
      from: { path: `${SRC}main\\.ts$` },
      to: { path: SRC, pathNot: `${SRC}((api|kong-sync|loader|cluster)/program\\.ts|shared/)` },
    },
    onlyItself('api', 'shared'),
    onlyItself('kong-sync', 'clients', 'shared'),
    onlyItself('loader', 'clients', 'shared'),
    onlyItself('cluster', 'clients', 'shared'),
    onlyItself('clients', 'shared'),
    onlyItself('shared'),
    {
      name: 'domain-depends-on-nothing-outside',
      comment: 'The domain owns its ports: it never imports an adapter, the HTTP layer, auth, config or the wiring.',
      severity: 'error',
      from: { path: `${SRC}api/domain/` },
      to: { path: SRC, pathNot: `${SRC}api/domain/` },
    },
    {
      name: 'adapters-do-not-import-http',
      comment: 'Stores and auth raise their own errors; only http/ speaks HTTP.',
      severity: 'error',
      from: { path: `${SRC}api/(data|cache|auth)/` },
      to: { path: `${SRC}api/http/` },
    },
    {
      name: 'product-imports-no-tooling-or-tests',
      comment: 'service/src ships alone: it never imports tooling/ or tests/.',
      severity: 'error',
      from: { path: SRC },
      to: { path: '^(tooling|tests)/' },
    },
    {
      name: 'tooling-imports-no-tests',
      comment: 'tooling/ (generators, checks, bench) is what tests verify, never the other way round.',
      severity: 'error',
      from: { path: '^tooling/' },
      to: { path: '^tests/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: SRC },
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
