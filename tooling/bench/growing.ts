import type { Pool } from 'mysql2/promise';
import { generateRecords } from '../generate-records.js';
import { ndjsonChunks, postNdjsonStream } from '../ndjson-stream.js';
import type { GrowthPoint } from './growth.js';
import { fourWriters, latencies, load } from './harness.js';
import type { BenchInputs } from './inputs.js';
import { SETTINGS } from './settings.js';
import { scalar, type tableSizes } from './table-sizes.js';

/** Growing the bench database as NDJSON streams through the service, and measuring it at each size. */

const { records: RECORDS, growth: GROWTH } = SETTINGS;

/**
 * Loads as NDJSON streams from one generator (the first RECORDS are the same titles every run),
 * through the service at `url`; `loaded` counts what it inserted.
 */
export function recordLoader(pool: Pool, url: string) {
  const source = generateRecords(Math.max(RECORDS, ...GROWTH), 42, 0)[Symbol.iterator]();
  const take = function* (count: number) {
    for (let i = 0; i < count; i += 1) {
      const next = source.next();
      if (next.done) return;
      yield next.value;
    }
  };
  let loadedTotal = 0;
  /** Loads until the table holds `target` records (bulk scenarios add records of their own). */
  const loadUpTo = async (target: number) => {
    const counted = await scalar(pool, 'select count(*) from records');
    const response = await postNdjsonStream(url, ndjsonChunks(take(Math.max(0, target - counted)), 256 * 1024));
    loadedTotal += ((await response.json()) as { inserted: number }).inserted;
  };
  return { loadUpTo, loaded: () => loadedTotal };
}

/** One measurement of each scenario at the current size (a growth point); `seconds` is the time they took in all. */
export function growthMeasure(url: string, inputs: BenchInputs, indexSize: () => ReturnType<typeof tableSizes>) {
  const { terms, ranges, timeRange, idPathsUpTo, batches, postBatch, fetchBody } = inputs;
  let growthSeconds = 0;
  const growthPoint = async (): Promise<GrowthPoint> => {
    const started = performance.now();
    const { records } = await indexSize();
    // One unmeasured pass first, as the main table's rounds have: right after a load the pages are cold.
    await latencies(terms, (term) => fetchBody(`${url}/v1/?contains=${term}`));
    const contains = await latencies(terms, (term) => fetchBody(`${url}/v1/?contains=${term}`));
    const range = await latencies(ranges, timeRange);
    const byId = await load(url, idPathsUpTo(records));
    const bulkRowsPerSecond = await fourWriters(batches.length, postBatch);
    growthSeconds += (performance.now() - started) / 1000;
    console.log(`  at ${records} records: contains p99 ${contains.p99.toFixed(1)} ms, by id ${byId.rps} req/s, bulk ${Math.round(bulkRowsPerSecond)} rows/s`);
    return { records, containsP50: contains.p50, containsP99: contains.p99, rangeP50: range.p50, byIdRps: byId.rps, bulkRowsPerSecond };
  };
  return { point: growthPoint, seconds: () => growthSeconds };
}
