import { createHash, type Hash } from 'node:crypto';
import type { Context } from 'koa';
import { InvalidInput } from '../domain/errors.js';
import type { IdempotencyRequest } from '../domain/idempotent-write.js';

const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The Idempotency-Key of a write, scoped to the authenticated caller, with the digest of what
 * decides the write's outcome: the mode, the media type and the exact body bytes. The same for a
 * JSON body and an NDJSON stream: `hash` is fed the bytes as they are read (null without a key,
 * so only requests with a key pay for hashing), and `requestHash` finishes it once, when asked.
 * Null without the header.
 */
export function idempotencyOf(ctx: Context, { atomic, ttlMs }: { atomic: boolean; ttlMs: number }): { request: IdempotencyRequest; hash: Hash } | null {
  const key = ctx.get('idempotency-key');
  if (key === '') return null;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new InvalidInput('The Idempotency-Key header is not valid.', [
      { parameter: 'Idempotency-Key', detail: 'must be 1 to 128 characters of letters, digits, ".", "_", ":" or "-"' },
    ]);
  }
  const principal = ctx.state.principal;
  const scope = createHash('sha256').update(`${principal?.issuer ?? ''}\0${principal?.subject ?? ''}`).digest('hex');
  const hash = createHash('sha256').update(`${atomic}\0${ctx.request.type}\0`);
  let hex: string | null = null;
  return { request: { key, scope, ttlMs, requestHash: () => (hex ??= hash.digest('hex')) }, hash };
}
