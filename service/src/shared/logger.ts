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

/** The fields of the one line per request (http/request-log.ts): a fixed list of plain values. */
export type RequestLine = {
  requestId: string;
  method: string;
  route: string;
  status: number;
  durationMs: number;
  subject?: string | undefined;
  issuer?: string | undefined;
  trace_id?: string | undefined;
  span_id?: string | undefined;
};

const OPTIONAL_FIELDS = ['subject', 'issuer', 'trace_id', 'span_id'] as const;

/**
 * Writes the one line per request as pino would (its level, time, the logger's bindings, then
 * `msg`), to the logger's own destination, but serialized in one template: pino's general path
 * (walking an object's keys, the redaction pass) cost several microseconds of a cached read's
 * budget (docs/performance.md). Every value goes through JSON.stringify, so no field can break
 * the line. The logger must use pino's default time and message key, as createLogger does.
 */
export function requestLineWriter(logger: Logger): (line: RequestLine) => void {
  const stream = (logger as unknown as Record<symbol, { write(line: string): void }>)[pino.symbols.streamSym] as { write(line: string): void };
  const bindings = (logger as unknown as Record<symbol, string>)[pino.symbols.chindingsSym] ?? '';
  const prefix = `{"level":${logger.levels.values.info}`;
  return (line) => {
    if (!logger.isLevelEnabled('info')) return;
    let optional = '';
    for (const field of OPTIONAL_FIELDS) {
      const value = line[field];
      if (value !== undefined) optional += `,"${field}":${JSON.stringify(value)}`;
    }
    stream.write(
      `${prefix},"time":${Date.now()}${bindings},"requestId":${JSON.stringify(line.requestId)},"method":${JSON.stringify(line.method)},"route":${JSON.stringify(line.route)},"status":${JSON.stringify(line.status)},"durationMs":${JSON.stringify(line.durationMs)}${optional},"msg":"request"}\n`,
    );
  };
}
