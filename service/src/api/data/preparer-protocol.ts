/** The messages between data/preparer-pool.ts and its workers (data/preparer-worker.ts). */

/** A request to a worker; `call` 0 expects no answer. */
export type PreparerRequest = { call: number; session: number; op: 'open' | 'records' | 'inserted' | 'finish' | 'close'; arg?: unknown };

/** A worker's answer to a call: its result, or the error it raised (cloned with its stack). */
export type PreparerAnswer = { call: number; result?: unknown; error?: Error };
