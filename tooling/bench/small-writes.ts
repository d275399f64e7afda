import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from 'mysql2/promise';
import { COMPACTION } from '../../service/src/api/data/index-compactor.js';
import { generateRecords } from '../generate-records.js';
import { latencies, type Figure } from './harness.js';
import type { BenchInputs } from './inputs.js';
import type { Row } from './report.js';
import type { tableSizes } from './table-sizes.js';

/**
 * Small writes on top of the bulk-loaded table, as most clients write: BENCH_SMALL_WRITES records
 * (100,000) as requests of 1 to 10 records from 8 writers, then, once the service's merges have
 * caught up, what those records cost the index per record against what the bulk-loaded records
 * cost, and `contains` against the same searches just before the small writes.
 */

const SMALL_WRITES = Number(process.env.BENCH_SMALL_WRITES ?? 100_000);
const WRITERS = 8;

type Sizes = Awaited<ReturnType<typeof tableSizes>>;

async function pendingFragments(pool: Pool): Promise<number> {
  const [[row]] = (await pool.query('select coalesce(sum(n), 0) as n from index_fragments')) as unknown as [[{ n: number | string }]];
  return Number(row.n);
}

export async function smallWrites(pool: Pool, url: string, inputs: BenchInputs, indexSize: () => Promise<Sizes>): Promise<{ rows: Row[]; note: string }> {
  const contains = () => latencies(inputs.terms, (term) => inputs.fetchBody(`${url}/v1/?contains=${term}`));
  const before = await indexSize();
  await contains();
  const containsBefore = await contains();

  console.log(`writing ${SMALL_WRITES} records as 1- to 10-record requests...`);
  const source = [...generateRecords(SMALL_WRITES, 77, 0)];
  let next = 0;
  let requests = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      while (next < source.length) {
        const size = 1 + ((requests * 7) % 10);
        const items = source.slice(next, next + size);
        next += size;
        requests += 1;
        const response = await fetch(`${url}/v1/bulk`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ items }) });
        if (!response.ok) throw new Error(`small write answered ${response.status}: ${await response.text()}`);
        await response.arrayBuffer();
      }
    }),
  );
  const writeSeconds = (performance.now() - started) / 1000;
  // The service merges on its own (a pass per 2,048 records written as fragments, and every 30 s).
  const settleBy = Date.now() + 120_000;
  while ((await pendingFragments(pool)) >= COMPACTION.mergeAt && Date.now() < settleBy) await sleep(500);
  const pending = await pendingFragments(pool);
  const after = await indexSize();
  await contains();
  const containsAfter = await contains();

  const added = after.records - before.records;
  const bytesPerRecord = (after.bytes * after.records - before.bytes * before.records) / added;
  const rowsPerRecord = (after.rows * after.records - before.rows * before.records) / added;
  const ratio = bytesPerRecord / before.bytes;
  const none: Figure = { rps: 0, p50: 0, p99: 0 };
  const rows: Row[] = [
    {
      scenario: `search index of ${added} records written 1 to 10 per request, on top of the bulk-loaded table: bytes per record`,
      service: none,
      baseline: none,
      serviceText: `${Math.round(bytesPerRecord)} B, ${rowsPerRecord.toFixed(2)} rows per record`,
      baselineText: `${Math.round(before.bytes)} B, ${before.rows.toFixed(2)} rows per record`,
      baselineName: 'the bulk-loaded records',
      ratio,
      ratioOf: 'bytes',
      goal: '<= 1.2x and <= 60 B',
      met: ratio <= 1.2 && bytesPerRecord <= 60,
    },
    {
      scenario: 'search contains (5-digit term), uncached, after those small writes',
      service: containsAfter,
      baseline: containsBefore,
      serviceText: `p50 ${containsAfter.p50.toFixed(1)} ms, p99 ${containsAfter.p99.toFixed(1)} ms`,
      baselineText: `p50 ${containsBefore.p50.toFixed(1)} ms, p99 ${containsBefore.p99.toFixed(1)} ms`,
      baselineName: 'the same searches just before them',
      ratio: containsAfter.p99 / containsBefore.p99,
      ratioOf: 'p99 latency',
      goal: 'p99 <= 20 ms',
      met: containsAfter.p99 <= 20,
    },
  ];
  const note = `Small writes: ${added} records in ${requests} requests of 1 to 10 took ${writeSeconds.toFixed(0)} s (${Math.round(requests / writeSeconds)} requests/s from ${WRITERS} writers); ${pending} records were still waiting to be merged when measured.`;
  console.log(note);
  return { rows, note };
}
