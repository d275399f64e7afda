import type { Context } from 'koa';
import { bodyChunks } from './body-chunks.js';
import type { BodyDigest } from './idempotency-key.js';
import { HttpProblem } from './problem.js';

/**
 * An application/x-ndjson request body's chunks as they arrive, each added to the Idempotency-Key's
 * digest; more than `limit` bytes in all is a 413. Splitting and parsing the lines is the
 * domain's reader's work (domain/stream-items.ts), on a write worker in the service.
 */
export async function* ndjsonChunks(
  ctx: Context,
  { limit, minBytesPerSecond, digest }: { limit: number; minBytesPerSecond: number; digest?: BodyDigest | undefined },
): AsyncGenerator<Uint8Array> {
  const tooLarge = (headers: Record<string, string> = {}) =>
    new HttpProblem(413, 'body-too-large', `The body is larger than the NDJSON limit of ${limit} bytes.`, [], headers);
  if (Number(ctx.get('content-length') || 0) > limit) throw tooLarge();
  let total = 0;
  for await (const chunk of bodyChunks(ctx.req, minBytesPerSecond)) {
    total += chunk.length;
    digest?.update(chunk);
    // The rest of the body will not be read: close the connection after answering.
    if (total > limit) throw tooLarge({ Connection: 'close' });
    yield chunk;
  }
  digest?.end();
}
