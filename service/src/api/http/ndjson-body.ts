import type { Context } from 'koa';
import type { IngestLine } from '../domain/stream-ingest.js';
import { bodyChunks } from './body-chunks.js';
import type { BodyDigest } from './idempotency-key.js';
import { HttpProblem } from './problem.js';

const NEWLINE = 0x0a;
const EMPTY = Buffer.alloc(0);
/** Nothing but whitespace (what trim() removes): a blank line, skipped. */
const BLANK = /^\s*$/;

/**
 * Splits an application/x-ndjson request body into lines as it arrives and parses each, yielding
 * the lines each chunk completes together (a step of the generator per line cost a fifth of
 * reading one). Memory holds one chunk's lines and at most `maxLineBytes` of a line a chunk
 * boundary cuts. A longer line, or one that is not UTF-8 or JSON, is reported and skipped. Blank
 * lines are ignored. More than `limit` bytes in all is a 413.
 */
export async function* ndjsonLines(
  ctx: Context,
  { limit, maxLineBytes, minBytesPerSecond, digest }: { limit: number; maxLineBytes: number; minBytesPerSecond: number; digest?: BodyDigest | undefined },
): AsyncGenerator<IngestLine[]> {
  const tooLarge = (headers: Record<string, string> = {}) =>
    new HttpProblem(413, 'body-too-large', `The body is larger than the NDJSON limit of ${limit} bytes.`, [], headers);
  if (Number(ctx.get('content-length') || 0) > limit) throw tooLarge();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let parts: Buffer[] = [];
  let partBytes = 0;
  let tooLong = false;
  let lineNumber = 0;
  let total = 0;

  /** Ends the line held in `parts`, followed by `rest` (the part of it in the current chunk). */
  const finishLine = (rest: Buffer): IngestLine | null => {
    lineNumber += 1;
    const wasTooLong = tooLong;
    // Most lines lie within one chunk: they are read where they are, without a copy.
    const buffer = parts.length === 0 ? rest : Buffer.concat([...parts, rest], partBytes + rest.length);
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
    if (BLANK.test(text)) return null;
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
    const lines: IngestLine[] = [];
    for (;;) {
      const end = chunk.indexOf(NEWLINE, start);
      const piece = chunk.subarray(start, end === -1 ? chunk.length : end);
      if (!tooLong && partBytes + piece.length > maxLineBytes) {
        tooLong = true;
        parts = [];
        partBytes = 0;
      }
      if (end === -1) {
        // The line goes on in the next chunk: keep a copy of its start (so that it does not keep the whole chunk alive).
        if (!tooLong && piece.length > 0) {
          parts.push(Buffer.from(piece));
          partBytes += piece.length;
        }
        break;
      }
      const line = finishLine(tooLong ? EMPTY : piece);
      if (line) lines.push(line);
      start = end + 1;
    }
    if (lines.length > 0) yield lines;
  }
  if (partBytes > 0 || tooLong) {
    const line = finishLine(EMPTY);
    if (line) yield [line];
  }
  digest?.end();
}
