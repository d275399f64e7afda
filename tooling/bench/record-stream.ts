import { generateRecords } from '../generate-records.js';

/** A generated record, as the service takes it. */
export type BenchRecord = ReturnType<typeof generateRecords> extends Iterable<infer R> ? R : never;

/**
 * One stream of generated records for a whole run: every record a scenario writes is taken from
 * it once, so no table ever holds a record twice, and the table at the main size (BENCH_RECORDS)
 * holds the stream's first records, those the PostgreSQL reference indexes (later tables miss
 * the records the unindexed baseline wrote). Records taken for a timed run and not written are
 * given back, in order.
 */
export function recordStream(seed: number) {
  const source = generateRecords(Number.MAX_SAFE_INTEGER, seed, 0)[Symbol.iterator]();
  let pending: BenchRecord[] = [];
  let at = 0;
  let taken = 0;
  const next = (): BenchRecord => {
    if (at < pending.length) return pending[at++] as BenchRecord;
    return source.next().value as BenchRecord;
  };
  return {
    *take(count: number): Generator<BenchRecord> {
      for (let i = 0; i < count; i += 1) {
        taken += 1;
        yield next();
      }
    },
    /** `count` batches of `size` records. */
    batches(count: number, size = 1000): BenchRecord[][] {
      return Array.from({ length: count }, () => [...this.take(size)]);
    },
    /** Records taken and not written, to be taken again first. */
    giveBack(records: BenchRecord[]): void {
      pending = [...records, ...pending.slice(at)];
      at = 0;
      taken -= records.length;
    },
    /** Records taken and not given back: what the run has written. */
    taken: () => taken,
    /** The stream's first `count` records, without taking them (what the table at that size holds). */
    first: (count: number) => generateRecords(count, seed, 0),
  };
}

export type RecordStream = ReturnType<typeof recordStream>;
