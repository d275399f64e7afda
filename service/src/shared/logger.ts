import { writeSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import type { LogLevel } from './environment.js';

/**
 * JSON lines by default; LOG_FORMAT=pretty (local development, needs the pino-pretty dev dependency).
 * Lines are written to stdout asynchronously: a line is queued and written as soon as the previous
 * write finished, so a busy pod makes one write per batch of lines instead of one blocking write
 * per request (a sixth of the CPU of a cached read in the profile in docs/performance.md). pino
 * flushes what is queued when the process exits. Request lines are batched before that
 * (requestLineWriter).
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
 * Request lines are gathered and handed to the destination together: when this many characters
 * (8 KiB of ASCII) are waiting, or this long after the first of them. The line had cost about
 * 14 µs of a 65 µs cached read, most of it a write per line (docs/performance.md, run S).
 */
export const REQUEST_LINES_BATCH = { chars: 8192, ms: 50 };

type Destination = { write(chunk: string): void; fd?: unknown };

/**
 * Writes the one line per request as pino would (its level, time, the logger's bindings, then
 * `msg`), to the logger's own destination, but serialized in one template: pino's general path
 * (walking an object's keys, the redaction pass) cost several microseconds of a cached read's
 * budget (docs/performance.md). Every value goes through JSON.stringify, so no field can break
 * the line. The logger must use pino's default time and message key, as createLogger does.
 *
 * Lines are batched (REQUEST_LINES_BATCH): a line reaches the destination about 50 ms late at
 * most (later only while the event loop is held). Lines still waiting when the process exits
 * (process.exit, or the event loop emptying) are written then; a SIGKILL loses them.
 */
export function requestLineWriter(logger: Logger): (line: RequestLine) => void {
  const stream = (logger as unknown as Record<symbol, Destination>)[pino.symbols.streamSym] as Destination;
  const bindings = (logger as unknown as Record<symbol, string>)[pino.symbols.chindingsSym] ?? '';
  const prefix = `{"level":${logger.levels.values.info}`;
  let waiting = '';
  let timer: NodeJS.Timeout | undefined;

  const take = () => {
    const lines = waiting;
    waiting = '';
    return lines;
  };
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    process.removeListener('exit', writeAtExit);
    stream.write(take());
  };
  // A file descriptor (JSON lines, pino.destination): pino's own exit handler runs first and writes
  // what it queued; an asynchronous write would never finish now, so these go out synchronously.
  // Otherwise (pino-pretty's worker thread) they must reach the stream before pino's handler ends it.
  const ownFd = typeof stream.fd === 'number' && stream.fd >= 0 ? stream.fd : null;
  function writeAtExit() {
    if (ownFd === null) stream.write(take());
    else writeWholeSync(ownFd, take());
  }

  return (line) => {
    if (!logger.isLevelEnabled('info')) return;
    let optional = '';
    for (const field of OPTIONAL_FIELDS) {
      const value = line[field];
      if (value !== undefined) optional += `,"${field}":${JSON.stringify(value)}`;
    }
    waiting += `${prefix},"time":${Date.now()}${bindings},"requestId":${JSON.stringify(line.requestId)},"method":${JSON.stringify(line.method)},"route":${JSON.stringify(line.route)},"status":${JSON.stringify(line.status)},"durationMs":${JSON.stringify(line.durationMs)}${optional},"msg":"request"}\n`;
    if (waiting.length >= REQUEST_LINES_BATCH.chars) flush();
    else if (timer === undefined) {
      timer = setTimeout(flush, REQUEST_LINES_BATCH.ms).unref();
      if (ownFd === null) process.prependOnceListener('exit', writeAtExit);
      else process.once('exit', writeAtExit);
    }
  };
}

/** Writes all of `text` before returning, waiting out a full non-blocking pipe (EAGAIN) as pino does at exit. */
function writeWholeSync(fd: number, text: string): void {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  let rest = Buffer.from(text);
  for (let waits = 0; rest.length > 0 && waits < 1000; ) {
    try {
      rest = rest.subarray(writeSync(fd, rest));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return;
      waits += 1;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}
