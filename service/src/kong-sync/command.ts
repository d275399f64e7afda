import { createLogger } from '../shared/logger.js';
import { loadKongSyncConfig } from './config.js';
import { runKongSync } from './kong-sync.js';

/** The Kong sidecar program's command: `records kong-sync` (program.ts names it). */
export async function kongSync(_argv: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const config = loadKongSyncConfig(env);
  const logger = createLogger(config);
  const server = await runKongSync(config, logger);
  logger.info({ issuers: config.issuers.length, intervalSeconds: config.intervalSeconds, overlapSeconds: config.overlapSeconds }, 'kong-sync running');
  const stop = () => server.close(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
