import { statSync } from 'node:fs';
import { commandLine, wholeNumberIn } from '../shared/command-line.js';
import { ConfigError } from '../shared/environment.js';
import { isPrivateHop } from '../shared/jwks-uri.js';
import { loadLoaderConfig } from './config.js';
import { inputFile, itemsOf, MalformedInput, prepareFile, prepareStdin, type Format } from './input.js';
import { bulkUrlOf, load, LoadFailed } from './load.js';
import { lockLoad, type LoadLock } from './load-lock.js';
import { beginLoad } from './load-state.js';
import { createProgress } from './progress.js';

/** Exit codes of `records load`. */
const LOAD_EXIT = { stored: 0, failed: 1, rejected: 3 } as const;

const USAGE = 'usage: records load FILE|- --url URL (or RECORDS_URL) [--token TOKEN] [--chunk-size 1-10000] [--rejects FILE] [--format items|array|ndjson] [--attempts N] [--timeout SECONDS] [--same-service]';

/** The command line: an unknown option is a usage error, exit 78. */
const argumentsOf = (argv: string[], config: { url?: string; token?: string }) =>
  commandLine(
    {
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: 'string', default: config.url },
        token: { type: 'string', default: config.token },
        'chunk-size': { type: 'string', default: '100' },
        rejects: { type: 'string' },
        format: { type: 'string' },
        attempts: { type: 'string', default: '6' },
        timeout: { type: 'string', default: '120' },
        'same-service': { type: 'boolean', default: false },
      },
    },
    USAGE,
  );

const MAX_ATTEMPTS = 100;

/** Whether `rejects` is the input file itself (compared as files, however the paths are spelled). */
function isSameFile(input: string, rejects: string): boolean {
  const [a, b] = [statSync(input, { throwIfNoEntry: false }), statSync(rejects, { throwIfNoEntry: false })];
  return a !== undefined && b !== undefined && a.dev === b.dev && a.ino === b.ino;
}

/** `records load` (program.ts names it). */
export async function loadCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const config = loadLoaderConfig(env);
  const { values, positionals } = argumentsOf(argv, config);
  const [path] = positionals;
  // Each wait is at most a minute: a hundred attempts wait at most about an hour and a half.
  const attempts = wholeNumberIn(values.attempts, 1, MAX_ATTEMPTS);
  const chunkSize = wholeNumberIn(values['chunk-size'], 1, 10_000);
  // Past about 24 days Node's timers cannot count: bounded like the service's own request timeout.
  const timeoutSeconds = wholeNumberIn(values.timeout, 1, 86_400);
  const format = values.format as Format | undefined;
  if (!path || positionals.length > 1 || !values.url || chunkSize === null || (format && !['items', 'array', 'ndjson'].includes(format))) {
    throw new ConfigError(USAGE);
  }
  if (attempts === null) throw new ConfigError(`--attempts must be a whole number from 1 to ${MAX_ATTEMPTS}; got ${values.attempts}\n${USAGE}`);
  if (timeoutSeconds === null) {
    throw new ConfigError(`--timeout must be a whole number of seconds from 1 to 86400; got ${values.timeout}\n${USAGE}`);
  }
  // A URL that cannot be one is a usage error, not a failure worth six attempts.
  const url = URL.parse(values.url);
  if (url === null || !['http:', 'https:'].includes(url.protocol)) {
    throw new ConfigError(`--url must be the service's http(s) URL, like http://localhost:8000 (requests go to /v1/bulk under it); got ${values.url}`);
  }
  // fetch refuses such a URL on every attempt, and its message repeated the password each time.
  if (url.username !== '' || url.password !== '') throw new ConfigError('--url must not carry a user or password (HTTP clients refuse it); give a token with --token or RECORDS_TOKEN');
  // A token is a key to the API for its whole life: it was sent in the clear to any http:// host.
  if (values.token && url.protocol === 'http:' && !isPrivateHop(url.hostname)) {
    throw new ConfigError(`--url ${url.protocol}//${url.host} would carry the token in the clear: use https://, or plain http only to localhost or a cluster Service (<name>.<namespace>.svc)`);
  }
  const rejectsPath = values.rejects ?? (path === '-' ? 'records-load.rejected.ndjson' : `${path}.rejected.ndjson`);
  // The rejects file is opened for writing first: the input's own records were emptied out of it.
  if (path !== '-' && isSameFile(path, rejectsPath)) throw new ConfigError(`--rejects names the input file ${path}; give the rejected items a file of their own`);
  let lock: LoadLock | null = null;
  try {
    // An input that cannot be read is named before the lock beside the rejects file is tried.
    if (path !== '-') inputFile(path);
    lock = await lockLoad(rejectsPath);
    const prepared = path === '-' ? await prepareStdin(process.stdin, format) : { source: await prepareFile(path, format), stdin: undefined };
    const progress = createProgress({ output: process.stderr, total: prepared.source.records });
    // Standard input has no digest (its chunks are keyed by content): nothing to hold a run to.
    // Named after the rejects file, which is this load's own: two inputs of one name loaded into
    // one folder of rejects would otherwise hold each other to their settings.
    const statePath = `${rejectsPath}.load-state.json`;
    const { digest } = prepared.source;
    // The endpoint the chunks go to, however --url was spelled, and without any credentials in it.
    const endpoint = bulkUrlOf(values.url);
    endpoint.username = endpoint.password = '';
    const run = digest !== null ? await beginLoad(statePath, { digest, chunkSize, url: endpoint.href }, { sameService: values['same-service'] }) : null;
    const summary = await load(prepared.source, itemsOf(prepared.source, prepared.stdin), { url: values.url, token: values.token, chunkSize, rejectsPath, attempts, timeoutMs: timeoutSeconds * 1000, progress, resume: run?.resume ?? null, onSent: run?.sent });
    await run?.end();
    const resumed = summary.replayed > 0 ? `; ${summary.replayed} of ${summary.chunks} chunks were stored by an earlier run` : '';
    console.error(`records load: ${summary.stored} of ${summary.records} records stored${summary.rejected > 0 ? `, ${summary.rejected} rejected (reasons in ${rejectsPath})` : ''}${resumed}`);
    return summary.rejected > 0 ? LOAD_EXIT.rejected : LOAD_EXIT.stored;
  } catch (error) {
    if (!(error instanceof MalformedInput || error instanceof LoadFailed)) throw error;
    console.error(`records load: ${error.message}`);
    return LOAD_EXIT.failed;
  } finally {
    const problem = await lock?.release();
    if (problem) console.error(`records load: ${problem}`);
  }
}
