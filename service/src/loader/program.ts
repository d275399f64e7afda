import type { Program } from '../shared/program.js';

/** The loader program: `records load`. Its code is loaded when it runs. */
export const loader: Program = {
  usage: `  load FILE|- [--url URL] [--token TOKEN] [--chunk-size N] [--rejects FILE] [--format items|array|ndjson] [--attempts N] [--timeout SECONDS] [--same-service]
            send {"items": [...]}, a JSON array or NDJSON of any size to POST /v1/bulk in chunks,
            resumably (URL and token also from RECORDS_URL and RECORDS_TOKEN); exit 0: all stored,
            3: some items rejected (see --rejects), 1: the load failed (run it again to resume)`,
  commands: { load: async (argv, env) => (await import('./command.js')).loadCommand(argv, env) },
};
