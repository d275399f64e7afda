import { pino, type Logger } from 'pino';
import type { LogLevel } from './environment.js';

/**
 * JSON lines by default; LOG_FORMAT=pretty (local development, needs the pino-pretty dev dependency).
 * Lines are written to stdout asynchronously: a line is queued and written as soon as the previous
 * write finished, so a busy pod makes one write per batch of lines instead of one blocking write
 * per request (a sixth of the CPU of a cached read in the profile in docs/performance.md). pino
 * flushes what is queued when the process exits.
 */
export function createLogger(config: { logLevel: LogLevel; logFormat?: 'json' | 'pretty' }): Logger {
  const options = {
    level: config.logLevel,
    base: { service: 'records' },
    // Authorization and cookies never reach a log line, whatever gets logged later.
    redact: ['req.headers.authorization', 'req.headers.cookie', '*.authorization', '*.password'],
  };
  if (config.logFormat === 'pretty') return pino({ ...options, transport: { target: 'pino-pretty' } });
  return pino(options, pino.destination({ dest: 1, sync: false }));
}

/**
 * The logger for the one line per request: its fields are a fixed list of non-secret values
 * (http/request-log.ts), so it skips the redaction pass every other line gets.
 */
export function requestLogger(logger: Logger): Logger {
  return logger.child({}, { redact: [] });
}
