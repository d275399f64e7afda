import type { Context } from 'koa';
import { bodyChunks } from './body-chunks.js';
import { HttpProblem } from './problem.js';

function tooLarge(limit: number): HttpProblem {
  // The rest of an oversized body is not worth reading: the connection closes with the answer.
  return new HttpProblem(413, 'body-too-large', `The body is larger than the limit of ${limit} bytes.`, [], { Connection: 'close' });
}

/**
 * Reads a JSON request body's bytes (its media type checked by http/body-media.ts): at most
 * `limit` bytes (checked against Content-Length before reading, and while reading), arriving at
 * `minBytesPerSecond` at least. Decoding and parsing are the reader's (domain/bulk-items.ts):
 * from 32 KiB on a worker thread in the service, since a 10,000-item document kept the event
 * loop from reads for tens of milliseconds, and a 1,000-item one for a few.
 */
export async function readJsonBody(ctx: Context, limit: number, minBytesPerSecond: number): Promise<Buffer> {
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) throw tooLarge(limit);

  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of bodyChunks(ctx.req, minBytesPerSecond)) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}
