import type { RecordsRepository, TransactionContext } from '../data/records-repository.js';
import { IdempotencyKeyReused, IdempotencyKeyTaken } from './errors.js';

/** An Idempotency-Key in use: the caller's scope, the key, and the request's digest once known. */
export type IdempotencyRequest = {
  scope: string;
  key: string;
  /** The request's digest; for a stream, valid once the body has been read. */
  requestHash: () => string;
  ttlMs: number;
};

export type Idempotent<T> = { value: T; replayed: boolean };

/**
 * Runs a write at most once per (caller, key). A stored response is replayed when the request is
 * the same, and a different request with the same key is 422. The response is stored in the same
 * transaction as the records, so "stored" and "remembered" cannot disagree; when two requests race,
 * the database's primary key lets one commit and the other rolls back and replays it.
 */
export async function runIdempotently<T>(
  repository: RecordsRepository,
  request: IdempotencyRequest | null,
  run: (beforeCommit: ((tx: TransactionContext, value: T) => Promise<void>) | undefined) => Promise<T>,
  drain: () => Promise<void> = async () => {},
): Promise<Idempotent<T>> {
  if (request === null) return { value: await run(undefined), replayed: false };

  const replay = async (): Promise<Idempotent<T> | null> => {
    const stored = await repository.findResponse(request.scope, request.key, Date.now());
    if (!stored) return null;
    await drain();
    if (stored.requestHash !== request.requestHash()) {
      throw new IdempotencyKeyReused('This Idempotency-Key was already used with a different request.');
    }
    return { value: JSON.parse(stored.response) as T, replayed: true };
  };

  const earlier = await replay();
  if (earlier) return earlier;
  try {
    const value = await run(async (tx, result) =>
      tx.remember({
        scope: request.scope,
        key: request.key,
        requestHash: request.requestHash(),
        status: 200,
        response: JSON.stringify(result),
        expiresAtMs: Date.now() + request.ttlMs,
      }),
    );
    return { value, replayed: false };
  } catch (error) {
    if (!(error instanceof IdempotencyKeyTaken)) throw error;
    const winner = await replay();
    if (!winner) throw error;
    return winner;
  }
}
