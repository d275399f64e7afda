import { pino, type Logger } from 'pino';
import type { Config } from './config.js';

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({
    level: config.logLevel,
    base: { service: 'records' },
    // Authorization and cookies never reach a log line, whatever gets logged later.
    redact: ['req.headers.authorization', 'req.headers.cookie', '*.authorization', '*.password'],
  });
}
