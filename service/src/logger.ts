import { pino, type Logger } from 'pino';
import type { Config } from './config.js';

/** JSON lines by default; LOG_FORMAT=pretty (local development, needs the pino-pretty dev dependency). */
export function createLogger(config: Pick<Config, 'logLevel'> & Partial<Pick<Config, 'logFormat'>>): Logger {
  return pino({
    level: config.logLevel,
    ...(config.logFormat === 'pretty' ? { transport: { target: 'pino-pretty' } } : {}),
    base: { service: 'records' },
    // Authorization and cookies never reach a log line, whatever gets logged later.
    redact: ['req.headers.authorization', 'req.headers.cookie', '*.authorization', '*.password'],
  });
}
