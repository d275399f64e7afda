import { IdempotencyKeyReused, IdempotencyKeyTaken } from './errors.js';
import type { IdempotencyStore, RecordsStore, WriteTransaction } from './ports.js';

/** An Idempotency-Key in use: the caller's scope, the key, and the request's digest. */
export type IdempotencyRequest = {
  scope: string;
  key: string;
  /** The digest of the request's mode, media type and body bytes; it settles once the body has been read whole. */
  digest: Promise<string>;
  ttlMs: number;
};

export type Idempotent<T> = { value: T; replayed: boolean };

export type WriteDependencies = { store: RecordsStore; idempotency: IdempotencyStore; now: () => number };

/**
 * Runs a write in one transaction, at most once per (caller, key) when the request carries a key.
 * A remembered response is replayed when the request is the same; a different request with the
 * same key is IdempotencyKeyReused. The response is remembered in the write's own transaction, so
 * "stored" and "remembered" cannot disagree; when two requests race, the store's unique key lets
 * one commit, and the other rolls back and replays it. The digest is awaited only after `work`
 * (or `drain`) has read the body.
 */
export async function writeOnce<T>(
  { store, idempotency, now }: WriteDependencies,
  request: IdempotencyRequest | null,
  work: (tx: WriteTransaction) => Promise<T>,
  /** Consumes what is left of the request before a replay compares digests (a stream's body). */
  drain: () => Promise<void>,
): Promise<Idempotent<T>> {
  if (request === null) return { value: await store.inTransaction(work), replayed: false };

  const replay = async (find: IdempotencyStore['find']): Promise<Idempotent<T> | null> => {
    const remembered = await find(request.scope, request.key, now());
    if (!remembered) return null;
    await drain();
    if (remembered.requestHash !== (await request.digest)) {
      throw new IdempotencyKeyReused('This Idempotency-Key was already used with a different request.');
    }
    return { value: JSON.parse(remembered.response) as T, replayed: true };
  };

  const earlier = await replay(idempotency.find);
  if (earlier) return earlier;
  try {
    const value = await store.inTransaction(async (tx) => {
      const result = await work(tx);
      const at = now();
      const entry = { scope: request.scope, key: request.key, requestHash: await request.digest, response: JSON.stringify(result), expiresAtMs: at + request.ttlMs };
      await tx.remember(entry, at);
      return result;
    });
    return { value, replayed: false };
  } catch (error) {
    if (!(error instanceof IdempotencyKeyTaken)) throw error;
    // The winner may still be committing (a race over an expired key): wait for it.
    const winner = await replay(idempotency.findAfterWriter);
    if (!winner) throw error;
    return winner;
  }
}
