import type { AddressInfo } from 'node:net';
import { commandLine, wholeNumberIn } from '../shared/command-line.js';
import { ConfigError } from '../shared/environment.js';
import { createLogger } from '../shared/logger.js';
import { loadSigningKeyIfPresent } from './auth/signing-key.js';
import { createTokenMinter } from './auth/token-minter.js';
import { loadConfig } from './config.js';
import { createDatabase } from './data/database.js';
import { migrateLatest } from './data/migrations/index.js';
import { refoldAll, refoldIfBehind } from './data/refold.js';
import { FOLDING_VERSION } from './domain/text.js';
import { waitForDatabase } from './data/wait-for-database.js';
import { flushTraces } from './observability/traces.js';
import { createRuntime } from './runtime.js';
import { listen } from './server.js';
import { shutdownGracefully, trackConnections } from './shutdown.js';

/** The API program's commands: `records serve`, `migrate`, `refold` and `token` (program.ts names them). */

export async function serve(_argv: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const config = loadConfig(env);
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

export async function migrate(argv: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const usage = 'usage: records migrate [--wait SECONDS (0-3600)]';
  const { values } = commandLine({ args: argv, options: { wait: { type: 'string', default: '0' } } }, usage);
  const waitSeconds = wholeNumberIn(values.wait, 0, 3600);
  if (waitSeconds === null) throw new ConfigError(usage);
  const config = loadConfig(env);
  const logger = createLogger(config);
  const db = createDatabase(config.databaseUrl);
  try {
    await waitForDatabase(db, waitSeconds, logger);
    const applied = await migrateLatest(db.knex);
    logger.info({ applied, engine: db.engine }, applied.length > 0 ? 'migrations applied' : 'database already current');
    const refolded = await refoldIfBehind(db.knex);
    if (refolded) logger.info({ ...refolded, folding: FOLDING_VERSION }, 'stored text refolded');
  } finally {
    await db.close();
  }
}

/** Brings stored folding up to date: after a rollout that changed it, for what old pods wrote meanwhile. */
export async function refold(_argv: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const config = loadConfig(env);
  const logger = createLogger(config);
  const db = createDatabase(config.databaseUrl);
  try {
    const result = await refoldAll(db.knex);
    logger.info({ ...result, folding: FOLDING_VERSION }, 'stored folding up to date');
  } finally {
    await db.close();
  }
}

export async function token(argv: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const usage = 'usage: records token --aud AUDIENCE --scope SCOPES [--sub NAME] [--ttl SECONDS (1-86400)]';
  const { values } = commandLine(
    { args: argv, options: { aud: { type: 'string' }, scope: { type: 'string' }, sub: { type: 'string' }, ttl: { type: 'string', default: '300' } } },
    usage,
  );
  const config = loadConfig(env);
  const ttlSeconds = wholeNumberIn(values.ttl, 1, 86_400);
  if (!values.aud || values.scope === undefined || ttlSeconds === null) throw new ConfigError(usage);
  const key = loadSigningKeyIfPresent(config.identity.keyFile);
  if (!key || !config.identity.issuer) {
    throw new ConfigError('records token needs SERVICE_KEY_FILE (an existing private key file) and SERVICE_ISSUER (this service\'s issuer URL)');
  }
  const minter = createTokenMinter({ key, issuer: config.identity.issuer, name: config.identity.name });
  console.log(minter.token({ audience: values.aud, scope: values.scope, subject: values.sub, ttlSeconds }));
}
