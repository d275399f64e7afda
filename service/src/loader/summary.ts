/**
 * What a load did so far: records read (`skipped` of them in chunks an earlier run had sent), stored,
 * rejected; chunks done, and of those, stored by an earlier run (skipped, or replayed by the service).
 */
export type LoadSummary = { records: number; skipped: number; stored: number; rejected: number; chunks: number; replayed: number };

/**
 * The first `chunks` chunks of a load, each answered by the service (stored, or rejected item by
 * item), added up; `rejectsBytes`: how much of the rejects file they wrote. A re-run does not send
 * them again: a replay would be answered from the service's idempotency store, but costs a request
 * (and a gateway's rate limit) each, and once the keys have expired (IDEMPOTENCY_TTL_SECONDS) it
 * would store them a second time.
 */
export type SentChunks = { chunks: number; stored: number; rejected: number; rejectsBytes: number };
