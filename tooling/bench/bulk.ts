import type { Pool } from 'mysql2/promise';
import { createPostingsBuilder } from '../../service/src/api/data/postings.js';
import { rowsFor } from './baselines.js';
import { alternating, batchesLasting, fourWriters, type BatchWriter } from './harness.js';
import type { BenchInputs } from './inputs.js';
import type { RecordStream } from './record-stream.js';
import type { Row } from './report.js';
import { SETTINGS } from './settings.js';

/** Bulk writes: the service vs mysql2 writing rows of the same kind (with and without the trigram index). */

const { rounds: ROUNDS } = SETTINGS;

/**
 * mysql2 writing `count` batches of fresh records into `table`, and into records their posting
 * rows, one transaction per batch: the rows are made before the timed run, as the service's bodies are.
 */
function rawBatches(pool: Pool, stream: RecordStream, table: 'records' | 'records_plain', count: number): BatchWriter {
  const batches = stream.batches(count);
  const values = batches.map((records) => rowsFor(records));
  return {
    count,
    async write(batch) {
      const rows = values[batch] as unknown[][];
      const connection = await pool.getConnection();
      try {
        await connection.beginTransaction();
        const [result] = await connection.query(`insert into ${table} (title, uri, date_ms, date_raw, title_folded, uri_folded) values ?`, [rows]);
        if (table === 'records') {
          const first = (result as { insertId: number }).insertId;
          const postings = createPostingsBuilder();
          rows.forEach((row, i) => postings.add(first + i, row[4] as string));
          const entries = postings.drain().map((row) => [row.trigram, row.first_id, row.n, row.ids]);
          for (let s = 0; s < entries.length; s += 4000) await connection.query('insert into title_postings (trigram, first_id, n, ids) values ?', [entries.slice(s, s + 4000)]);
        }
        await connection.commit();
      } finally {
        connection.release();
      }
    },
    done: (written) => stream.giveBack(batches.slice(written).flat()),
  };
}

/**
 * ROUNDS rounds of four writers each, in alternating order: the service, mysql2 into records,
 * mysql2 into a copy of records without the index (the same rows to start with, so that both
 * tables are the same size); rows/s. Every batch is of fresh records (bench/record-stream.ts).
 */
export async function bulkRounds(pool: Pool, inputs: BenchInputs, stream: RecordStream): Promise<{ service: number[]; raw: number[]; plain: number[] }> {
  await pool.query('create table records_plain like records');
  await pool.query('insert into records_plain select * from records');
  const bulk: { service: number[]; raw: number[]; plain: number[] } = { service: [], raw: [], plain: [] };
  // Batches for BENCH_SECONDS at the writer's last rate (the first round guesses): a writer that
  // runs out early is timed over the batches it wrote.
  const enough = (rates: number[]) => batchesLasting(rates.at(-1));
  for (let round = 1; round <= ROUNDS; round += 1) {
    console.log(`bulk writes, round ${round}/${ROUNDS}`);
    const [service, raw, plain] = await alternating(round, [
      () => fourWriters(inputs.serviceBatches(enough(bulk.service))),
      () => fourWriters(rawBatches(pool, stream, 'records', enough(bulk.raw))),
      () => fourWriters(rawBatches(pool, stream, 'records_plain', enough(bulk.plain))),
    ]);
    bulk.service.push(service);
    bulk.raw.push(raw);
    bulk.plain.push(plain);
  }
  return bulk;
}

/** The service's bulk rate `serviceRate` against a bare writer's `baseline`, with its goal. */
export const rateRow = (serviceRate: number, scenario: string, baselineName: string, baseline: number, goal: number): Row => ({
  scenario,
  service: { rps: Math.round(serviceRate), p50: 0, p99: 0 },
  baseline: { rps: Math.round(baseline), p50: 0, p99: 0 },
  serviceText: `${Math.round(serviceRate)} rows/s`,
  baselineText: `${Math.round(baseline)} rows/s`,
  baselineName,
  ratio: serviceRate / baseline,
  ratioOf: 'rows/s',
  goal: `>= ${goal.toFixed(2)}`,
  met: serviceRate / baseline >= goal,
});
