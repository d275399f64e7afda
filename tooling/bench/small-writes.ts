import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from 'mysql2/promise';
import { COMPACTION } from '../../service/src/api/data/index-compactor.js';
import { latencies, type Figure } from './harness.js';
import { bodyOf, type BenchInputs } from './inputs.js';
import type { RecordStream } from './record-stream.js';
import type { Row } from './report.js';
import { scalar, type tableSizes } from './table-sizes.js';

/**
 * Small writes on top of the bulk-loaded table, as most clients write: BENCH_SMALL_WRITES fresh
 * records (100,000) as requests of 1 to 10 records from 8 writers, then, once the service's merges have
 * caught up, what those records cost the index per record against what the bulk-loaded records
 * cost, and `contains` against the same searches just before the small writes.
 */

const SMALL_WRITES = Number(process.env.BENCH_SMALL_WRITES ?? 100_000);
const WRITERS = 8;
/** Records written as fragments and not merged yet. */
const PENDING = 'select coalesce(sum(n), 0) from index_fragments';

type Sizes = Awaited<ReturnType<typeof tableSizes>>;

/** Exact posting rows and bytes of ids of the records with ids in (after, upTo]: rows are counted by their first id. */
async function postingsOf(pool: Pool, after: number, upTo: number): Promise<{ rows: number; idBytes: number }> {
  const [[row]] = (await pool.query('select count(*) as n, coalesce(sum(length(ids)), 0) as bytes from title_postings where first_id > ? and first_id <= ?', [after, upTo])) as unknown as [
    [{ n: number | string; bytes: number | string }],
  ];
  return { rows: Number(row.n), idBytes: Number(row.bytes) };
}

export async function smallWrites(pool: Pool, url: string, inputs: BenchInputs, indexSize: () => Promise<Sizes>, stream: RecordStream): Promise<{ rows: Row[]; note: string }> {
  const contains = () => latencies(inputs.terms, (term) => inputs.fetchBody(`${url}/v1/?contains=${term}`));
  const before = await indexSize();
  const bulkEnd = await scalar(pool, 'select coalesce(max(id), 0) from records');
  await contains();
  const containsBefore = await contains();

  console.log(`writing ${SMALL_WRITES} records as 1- to 10-record requests...`);
  const source = [...stream.take(SMALL_WRITES)];
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
        await bodyOf(await fetch(`${url}/v1/bulk`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ items }) }));
      }
    }),
  );
  const writeSeconds = (performance.now() - started) / 1000;
  // The service merges on its own (a pass per 2,048 records written as fragments, and every 30 s).
  const settleBy = Date.now() + 120_000;
  while ((await scalar(pool, PENDING)) >= COMPACTION.mergeAt && Date.now() < settleBy) await sleep(500);
  const pending = await scalar(pool, PENDING);
  const after = await indexSize();
  await contains();
  const containsAfter = await contains();

  // InnoDB's size is of the whole index (its statistics cannot tell whose rows fill a page); the
  // rows and id bytes of each part are counted exactly.
  const added = after.records - before.records;
  const bulk = await postingsOf(pool, 0, bulkEnd);
  const small = await postingsOf(pool, bulkEnd, Number.MAX_SAFE_INTEGER);
  const perRecord = (part: { rows: number; idBytes: number }, records: number) => `${(part.rows / records).toFixed(2)} rows and ${(part.idBytes / records).toFixed(1)} B of ids`;
  const ratio = after.bytes / before.bytes;
  const none: Figure = { rps: 0, p50: 0, p99: 0 };
  const rows: Row[] = [
    {
      scenario: `search index after ${added} records written 1 to 10 per request on top of the bulk-loaded table: bytes per record`,
      service: none,
      baseline: none,
      serviceText: `${Math.round(after.bytes)} B per record; the small writes hold ${perRecord(small, added)} per record`,
      baselineText: `${Math.round(before.bytes)} B per record; its records hold ${perRecord(bulk, before.records)} per record`,
      baselineName: 'the bulk-loaded index just before',
      ratio,
      ratioOf: 'bytes',
      goal: '<= 1.2x and <= 60 B',
      met: ratio <= 1.2 && after.bytes <= 60,
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
