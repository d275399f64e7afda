import type { Pool } from 'mysql2/promise';
import { ndjsonChunks, postNdjsonStream, sampleRss } from '../ndjson-stream.js';
import type { GrowthPoint } from './growth.js';
import { batchesLasting, fourWriters, latencies, load } from './harness.js';
import { bodyOf, type BenchInputs } from './inputs.js';
import type { RecordStream } from './record-stream.js';
import { scalar, type tableSizes } from './table-sizes.js';

/** Growing the bench database as NDJSON streams through the service, and measuring it at each size. */

/**
 * Loads records from `stream` as NDJSON streams through the service at `url`, sampling its RSS
 * (process `pid`) while it loads; `loaded` counts what it inserted, `peakRss` the most it used.
 */
export function recordLoader(pool: Pool, url: string, stream: RecordStream, pid: number) {
  let loadedTotal = 0;
  let peakRss = 0;
  /** Loads until the table holds `target` records (other scenarios write records of their own). */
  const loadUpTo = async (target: number) => {
    const counted = await scalar(pool, 'select count(*) from records');
    const rss = sampleRss(pid, 100);
    try {
      const response = await postNdjsonStream(url, ndjsonChunks(stream.take(Math.max(0, target - counted)), 256 * 1024));
      loadedTotal += (JSON.parse(new TextDecoder().decode(await bodyOf(response))) as { inserted: number }).inserted;
    } finally {
      peakRss = Math.max(peakRss, rss.stop());
    }
  };
  return { loadUpTo, loaded: () => loadedTotal, peakRss: () => peakRss };
}

/** One measurement of each scenario at the current size (a growth point); `seconds` is the time they took in all. */
export function growthMeasure(url: string, inputs: BenchInputs, indexSize: () => ReturnType<typeof tableSizes>) {
  const { terms, ranges, timeRange, idPathsUpTo, serviceBatches, fetchBody } = inputs;
  let growthSeconds = 0;
  let bulkRate: number | undefined;
  /** `room`: records the bulk writes may add before the next size the run loads up to. */
  const growthPoint = async (room = Number.POSITIVE_INFINITY): Promise<GrowthPoint> => {
    const started = performance.now();
    const { records } = await indexSize();
    // One unmeasured pass first, as before the main table's rounds: right after a load the pages are cold.
    await latencies(terms, (term) => fetchBody(`${url}/v1/?contains=${term}`));
    const contains = await latencies(terms, (term) => fetchBody(`${url}/v1/?contains=${term}`));
    const range = await latencies(ranges, timeRange);
    const byId = await load(url, idPathsUpTo(records));
    // Fresh records (the loader's stream): they stay in the table, and the next load fills up to the next size.
    const bulkRowsPerSecond = await fourWriters(serviceBatches(Math.min(batchesLasting(bulkRate), Math.floor(room / 1000))));
    bulkRate = bulkRowsPerSecond;
    growthSeconds += (performance.now() - started) / 1000;
    console.log(`  at ${records} records: contains p99 ${contains.p99.toFixed(1)} ms, by id ${byId.rps} req/s, bulk ${Math.round(bulkRowsPerSecond)} rows/s`);
    return { records, containsP50: contains.p50, containsP99: contains.p99, rangeP50: range.p50, byIdRps: byId.rps, bulkRowsPerSecond };
  };
  return { point: growthPoint, seconds: () => growthSeconds };
}
