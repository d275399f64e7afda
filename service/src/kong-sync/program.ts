import type { Program } from '../shared/program.js';

/** The Kong sidecar program: `records kong-sync`. Its code is loaded when it runs. */
export const kongSync: Program = {
  usage: `  kong-sync in a Kong pod: keep Kong's consumers in step with the issuers' JWKS (KONG_SYNC_*)`,
  commands: { 'kong-sync': async (argv, env) => (await import('./command.js')).kongSync(argv, env) },
};
