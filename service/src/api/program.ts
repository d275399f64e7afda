import type { Program } from '../shared/program.js';

/** The API program: `records serve`, `migrate`, `refold` and `token`. Its code is loaded when one of them runs. */
const commands = () => import('./commands.js');

export const api: Program = {
  usage: `  serve     serve the HTTP API (migrates the embedded SQLite database first)
  migrate   apply pending database migrations, then refold stored text if this release folds it anew (idempotent)
  migrate --wait SECONDS
            first wait up to SECONDS for the database to accept connections
  refold    bring stored folded text and the search index to this release's folding
            (idempotent; after a rollout that changed it: docs/operations.md)
  token     print a token signed with SERVICE_KEY_FILE, issued by SERVICE_ISSUER:
            records token --aud AUDIENCE --scope "records:read records:write" [--sub NAME] [--ttl SECONDS]`,
  commands: {
    serve: async (argv, env) => (await commands()).serve(argv, env),
    migrate: async (argv, env) => (await commands()).migrate(argv, env),
    refold: async (argv, env) => (await commands()).refold(argv, env),
    token: async (argv, env) => (await commands()).token(argv, env),
  },
};
