import type { Context } from 'koa';
import type { IngestLine } from '../domain/stream-ingest.js';
import { bodyChunks } from './body-chunks.js';
import type { BodyDigest } from './idempotency-key.js';
import { HttpProblem } from './problem.js';

const NEWLINE = 0x0a;

/**
 * Splits an application/x-ndjson request body into lines as it arrives and parses each, holding at
 * most one line (up to `maxLineBytes`) in memory. A longer line, or one that is not UTF-8 or JSON,
 * is reported and skipped. Blank lines are ignored. More than `limit` bytes in all is a 413.
 */
export async function* ndjsonLines(
  ctx: Context,
  { limit, maxLineBytes, minBytesPerSecond, digest }: { limit: number; maxLineBytes: number; minBytesPerSecond: number; digest?: BodyDigest | undefined },
): AsyncGenerator<IngestLine> {
  const tooLarge = (headers: Record<string, string> = {}) =>
    new HttpProblem(413, 'body-too-large', `The body is larger than the NDJSON limit of ${limit} bytes.`, [], headers);
  if (Number(ctx.get('content-length') || 0) > limit) throw tooLarge();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let parts: Buffer[] = [];
  let partBytes = 0;
  let tooLong = false;
  let lineNumber = 0;
  let total = 0;

  const finishLine = (): IngestLine | null => {
    lineNumber += 1;
    const bytes = partBytes;
    const wasTooLong = tooLong;
    const buffer = Buffer.concat(parts, partBytes);
    parts = [];
    partBytes = 0;
    tooLong = false;
    if (wasTooLong) return { line: lineNumber, problem: `line is longer than ${maxLineBytes} bytes` };
    let text: string;
    try {
      text = decoder.decode(buffer);
    } catch {
      return { line: lineNumber, problem: 'line is not valid UTF-8' };
    }
    if (bytes === 0 || text.trim() === '') return null;
    try {
      return { line: lineNumber, item: JSON.parse(text) as unknown };
    } catch {
      return { line: lineNumber, problem: 'malformed JSON' };
    }
  };

  for await (const chunk of bodyChunks(ctx.req, minBytesPerSecond)) {
    total += chunk.length;
    digest?.update(chunk);
    if (total > limit) {
      // The rest of the body will not be read: close the connection after answering.
      throw tooLarge({ Connection: 'close' });
    }
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(NEWLINE, start);
      const piece = chunk.subarray(start, end === -1 ? chunk.length : end);
      if (!tooLong) {
        if (partBytes + piece.length > maxLineBytes) {
          tooLong = true;
          parts = [];
          partBytes = 0;
        } else if (piece.length > 0) {
          parts.push(Buffer.from(piece));
          partBytes += piece.length;
        }
      }
      if (end === -1) break;
      const line = finishLine();
      if (line) yield line;
      start = end + 1;
    }
  }
  if (partBytes > 0 || tooLong) {
    const line = finishLine();
    if (line) yield line;
  }
  digest?.end();
}
