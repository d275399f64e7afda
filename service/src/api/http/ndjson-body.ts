import type { Hash } from 'node:crypto';
import type { Context } from 'koa';
import type { NdjsonLine } from '../domain/ndjson-ingest.js';
import { HttpProblem } from './problem.js';

const NEWLINE = 0x0a;

/**
 * Splits an application/x-ndjson request body into lines as it arrives, holding at most one line
 * (up to `maxLineBytes`) in memory. A longer line is reported and skipped, not buffered. Blank
 * lines are ignored. More than `limit` bytes in all is a 413.
 */
export async function* ndjsonLines(
  ctx: Context,
  { limit, maxLineBytes, hash }: { limit: number; maxLineBytes: number; hash?: Hash },
): AsyncGenerator<NdjsonLine> {
  const tooLarge = (headers: Record<string, string> = {}) =>
    new HttpProblem(413, 'body-too-large', `The body is larger than the NDJSON limit of ${limit} bytes.`, [], headers);
  if (Number(ctx.get('content-length') || 0) > limit) throw tooLarge();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let parts: Buffer[] = [];
  let partBytes = 0;
  let tooLong = false;
  let lineNumber = 0;
  let total = 0;

  const finishLine = (): NdjsonLine | null => {
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
    return bytes === 0 || text.trim() === '' ? null : { line: lineNumber, text };
  };

  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    total += chunk.length;
    hash?.update(chunk);
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
}
