import type { Program } from '../shared/program.js';

/** The cluster commands: `records init-secret`. Their code is loaded when one runs. */
export const cluster: Program = {
  usage: `  init-secret --name NAME --keys KEY[,KEY...]
            in a pod: create Secret NAME in the pod's namespace with generated values
            (signing-key.pem, mariadb-password, mariadb-root-password), or add the missing keys`,
  commands: { 'init-secret': async (argv, env) => (await import('./command.js')).initSecret(argv, env) },
};
