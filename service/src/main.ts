#!/usr/bin/env node
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { loadSigningKeyIfPresent } from './auth/signing-key.js';
import { createTokenMinter } from './auth/token-minter.js';
import { ConfigError, loadConfig, loadKongSyncConfig } from './config.js';
import { runKongSync } from './gateway/kong-sync.js';
import { createDatabase, type Database } from './data/database.js';
import { ensureGeneratedSecret, GENERATED_KEYS, type GeneratedKey } from './kubernetes/generated-secret.js';
import { migrateLatest } from './data/migrations/index.js';
import { itemsOf, MalformedInput, prepareFile, prepareStdin, type Format } from './loader/input.js';
import { load, LoadFailed } from './loader/load.js';
import { createProgress } from './loader/progress.js';
import { createLogger } from './logger.js';
import { flushTraces } from './observability/traces.js';
import { createRuntime } from './runtime.js';
import { listen } from './server.js';
import { shutdownGracefully, trackConnections } from './shutdown.js';

const USAGE = `usage: records <command>

commands:
  serve     serve the HTTP API (migrates the embedded SQLite database first)
  migrate   apply pending database migrations (idempotent)
  token     print a token signed with SERVICE_KEY_FILE, issued by SERVICE_ISSUER:
            records token --aud AUDIENCE --scope "records:read records:write" [--sub NAME] [--ttl SECONDS]
  migrate --wait SECONDS
            first wait up to SECONDS for the database to accept connections
  kong-sync in a Kong pod: keep Kong's consumers in step with the issuers' JWKS (KONG_SYNC_*)
  load FILE|- [--url URL] [--token TOKEN] [--chunk-size N] [--rejects FILE] [--format items|array|ndjson] [--attempts N]
            send {"items": [...]}, a JSON array or NDJSON of any size to POST /v1/bulk in chunks,
            resumably (URL and token also from RECORDS_URL and RECORDS_TOKEN); exit 0: all stored,
            3: some items rejected (see --rejects), 1: the load failed (run it again to resume)
  init-secret --name NAME --keys KEY[,KEY...]
            in a pod: create Secret NAME in the pod's namespace with generated values
            (signing-key.pem, mariadb-password, mariadb-root-password), or add the missing keys

configuration comes from the environment: PORT, HOST, DATABASE_URL, BODY_LIMIT,
INSERT_BATCH_SIZE, BULK_CONCURRENCY, LOG_LEVEL (see README.md)`;

async function serve(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger(config);
  const runtime = await createRuntime(config, logger);
  const server = await listen(runtime.app, config.port, config.host, config.requestTimeoutSeconds * 1000);
  const connections = trackConnections(server);
  const { port } = server.address() as AddressInfo;
  logger.info({ port, engine: runtime.db.engine }, 'listening');

  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    shutdownGracefully({ server, connections, runtime, logger, ...config.shutdown }).then(
      async (clean) => {
        await flushTraces();
        process.exit(clean ? 0 : 1);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

async function migrate(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { wait: { type: 'string', default: '0' } } });
  const waitSeconds = Number(values.wait);
  if (!Number.isSafeInteger(waitSeconds) || waitSeconds < 0 || waitSeconds > 3600) throw new ConfigError('usage: records migrate [--wait SECONDS (0-3600)]');
  const config = loadConfig(process.env);
  const logger = createLogger(config);
  const db = createDatabase(config.databaseUrl);
  try {
    await waitForDatabase(db, waitSeconds, logger);
    const applied = await migrateLatest(db.knex);
    logger.info({ applied, engine: db.engine }, applied.length > 0 ? 'migrations applied' : 'database already current');
  } finally {
    await db.close();
  }
}

/** A database started beside this Job (the chart's bundled MariaDB) may still be initialising. */
async function waitForDatabase(db: Database, seconds: number, logger: Logger): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    try {
      await db.knex.raw('select 1');
      return;
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      logger.info({ reason: (error as Error).message.slice(0, 200) }, 'waiting for the database');
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

async function initSecret(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { name: { type: 'string' }, keys: { type: 'string' } } });
  const keys = (values.keys ?? '').split(',').filter(Boolean);
  const unknown = keys.filter((key) => !(GENERATED_KEYS as readonly string[]).includes(key));
  if (!values.name || keys.length === 0 || unknown.length > 0) {
    throw new ConfigError(`usage: records init-secret --name NAME --keys ${GENERATED_KEYS.join(',')}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`);
  }
  const account = '/var/run/secrets/kubernetes.io/serviceaccount';
  const host = process.env.KUBERNETES_SERVICE_HOST;
  if (!host || !existsSync(`${account}/token`)) throw new ConfigError('records init-secret runs in a pod with a service account token');
  const api = {
    url: `https://${host.includes(':') ? `[${host}]` : host}:${process.env.KUBERNETES_SERVICE_PORT ?? '443'}`,
    token: readFileSync(`${account}/token`, 'utf8').trim(),
    ca: readFileSync(`${account}/ca.crt`),
  };
  const namespace = readFileSync(`${account}/namespace`, 'utf8').trim();
  const result = await ensureGeneratedSecret(api, { namespace, name: values.name, keys: keys as GeneratedKey[] });
  console.log(JSON.stringify({ secret: `${namespace}/${values.name}`, ...result }));
}

async function kongSync(): Promise<void> {
  const config = loadKongSyncConfig(process.env);
  const logger = createLogger(config);
  const server = await runKongSync(config, logger);
  logger.info({ issuers: config.issuers.length, intervalSeconds: config.intervalSeconds, overlapSeconds: config.overlapSeconds }, 'kong-sync running');
  const stop = () => server.close(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

async function token(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { aud: { type: 'string' }, scope: { type: 'string' }, sub: { type: 'string' }, ttl: { type: 'string', default: '300' } },
  });
  const config = loadConfig(process.env);
  const ttlSeconds = Number(values.ttl);
  if (!values.aud || values.scope === undefined || !Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > 86_400) {
    throw new ConfigError('usage: records token --aud AUDIENCE --scope SCOPES [--sub NAME] [--ttl SECONDS (1-86400)]');
  }
  const key = loadSigningKeyIfPresent(config.identity.keyFile);
  if (!key || !config.identity.issuer) {
    throw new ConfigError('records token needs SERVICE_KEY_FILE (an existing private key file) and SERVICE_ISSUER (this service\'s issuer URL)');
  }
  const minter = createTokenMinter({ key, issuer: config.identity.issuer, name: config.identity.name });
  console.log(minter.token({ audience: values.aud, scope: values.scope, subject: values.sub, ttlSeconds }));
}

/** Exit codes of `records load`. */
const LOAD_EXIT = { stored: 0, failed: 1, rejected: 3 } as const;

async function loadCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string', default: process.env.RECORDS_URL },
      token: { type: 'string', default: process.env.RECORDS_TOKEN },
      'chunk-size': { type: 'string', default: '100' },
      rejects: { type: 'string' },
      format: { type: 'string' },
      attempts: { type: 'string', default: '6' },
    },
  });
  const [path] = positionals;
  const attempts = Number(values.attempts);
  const chunkSize = Number(values['chunk-size']);
  const format = values.format as Format | undefined;
  if (!path || positionals.length > 1 || !values.url || !Number.isSafeInteger(chunkSize) || chunkSize < 1 || chunkSize > 10_000 || !Number.isSafeInteger(attempts) || attempts < 1 || (format && !['items', 'array', 'ndjson'].includes(format))) {
    throw new ConfigError('usage: records load FILE|- --url URL (or RECORDS_URL) [--token TOKEN] [--chunk-size 1-10000] [--rejects FILE] [--format items|array|ndjson] [--attempts N]');
  }
  const rejectsPath = values.rejects ?? (path === '-' ? 'records-load.rejected.ndjson' : `${path}.rejected.ndjson`);
  try {
    const prepared = path === '-' ? await prepareStdin(process.stdin, format) : { source: await prepareFile(path, format), stdin: undefined };
    const progress = createProgress({ output: process.stderr, total: prepared.source.records });
    const summary = await load(prepared.source, itemsOf(prepared.source, prepared.stdin), { url: values.url, token: values.token, chunkSize, rejectsPath, attempts, progress });
    const resumed = summary.replayed > 0 ? `; ${summary.replayed} of ${summary.chunks} chunks were stored by an earlier run` : '';
    console.error(`records load: ${summary.stored} of ${summary.records} records stored${summary.rejected > 0 ? `, ${summary.rejected} rejected (reasons in ${rejectsPath})` : ''}${resumed}`);
    return summary.rejected > 0 ? LOAD_EXIT.rejected : LOAD_EXIT.stored;
  } catch (error) {
    if (!(error instanceof MalformedInput || error instanceof LoadFailed)) throw error;
    console.error(`records load: ${error.message}`);
    return LOAD_EXIT.failed;
  }
}

const commands: Record<string, (argv: string[]) => Promise<number | void>> = { serve, migrate, token, load: loadCommand, 'init-secret': initSecret, 'kong-sync': kongSync };

async function main(argv: string[]): Promise<number> {
  const command = commands[argv[0] ?? ''];
  if (!command) {
    console.error(USAGE);
    return argv[0] === undefined || argv[0] === 'help' || argv[0] === '--help' ? 0 : 2;
  }
  try {
    return (await command(argv.slice(1))) ?? 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`records: ${error.message}`);
      return 78; // EX_CONFIG
    }
    console.error('records: failed:', error);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  if (code !== 0) process.exit(code);
}, (error: unknown) => {
  console.error(error);
  process.exit(1);
});
