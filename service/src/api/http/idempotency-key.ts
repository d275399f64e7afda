import { createHash } from 'node:crypto';
import type { Context } from 'koa';
import { InvalidInput } from '../domain/errors.js';
import type { IdempotencyRequest } from '../domain/idempotent-write.js';

const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{1,128}$/;

/** The digest of what decides a write's outcome, fed the body's bytes as they are read. */
export type BodyDigest = { update(chunk: Buffer): void; end(): void };

/**
 * The Idempotency-Key of a write, scoped to the authenticated caller, with the digest of what
 * decides the write's outcome: the mode, the media type and the exact body bytes. The same for a
 * JSON body and an NDJSON stream: the body reader feeds `digest` and ends it, which settles the
 * request's `digest` promise. Null without the header, so only requests with a key pay for hashing.
 */
export function idempotencyOf(ctx: Context, { atomic, media, ttlMs }: { atomic: boolean; media: string; ttlMs: number }): { request: IdempotencyRequest; digest: BodyDigest } | null {
  // Absent, not empty: an empty header is a key the client meant to send, and it is malformed.
  if (ctx.headers['idempotency-key'] === undefined) return null;
  const key = ctx.get('idempotency-key');
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new InvalidInput('The Idempotency-Key header is not valid.', [
      { parameter: 'Idempotency-Key', detail: 'must be 1 to 128 characters of letters, digits, ".", "_", ":" or "-"' },
    ]);
  }
  const principal = ctx.state.principal;
  const scope = createHash('sha256').update(`${principal?.issuer ?? ''}\0${principal?.subject ?? ''}`).digest('hex');
  // The media type as read (http/body-media.ts), not as spelled: `Application/JSON` is the same request.
  const hash = createHash('sha256').update(`${atomic}\0${media}\0`);
  let settle: (hex: string) => void = () => {};
  const digest = new Promise<string>((resolve) => (settle = resolve));
  return {
    request: { key, scope, ttlMs, digest },
    digest: { update: (chunk) => hash.update(chunk), end: () => settle(hash.digest('hex')) },
  };
}
