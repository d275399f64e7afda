import type { Pool } from 'mysql2/promise';
import { createPostingsBuilder } from '../../service/src/api/data/postings.js';
import { rowsFor } from './baselines.js';
import { fourWriters } from './harness.js';
import type { BenchInputs } from './inputs.js';
import type { Row } from './report.js';
import { SETTINGS } from './settings.js';

/** Bulk writes: the service vs mysql2 writing the same rows (with and without the trigram index). */

const { rounds: ROUNDS } = SETTINGS;

/** mysql2 inserting a batch's rows into `table`, and into records its posting rows, in one transaction. */
const insertRaw = (pool: Pool, batches: BenchInputs['batches']) => (table: 'records' | 'records_plain') => async (batch: number) => {
  const values = rowsFor(batches[batch % batches.length] as never);
  const connection = await pool.getConnection();
  try {
    await connection.beginTransaction();
    const [result] = await connection.query(`insert into ${table} (title, uri, date_ms, date_raw, title_folded, uri_folded) values ?`, [values]);
    if (table === 'records') {
      const first = (result as { insertId: number }).insertId;
      const postings = createPostingsBuilder();
      values.forEach((row, i) => postings.add(first + i, row[4] as string));
      const entries = postings.drain().map((row) => [row.trigram, row.first_id, row.n, row.ids]);
      for (let s = 0; s < entries.length; s += 4000) await connection.query('insert into title_postings (trigram, first_id, n, ids) values ?', [entries.slice(s, s + 4000)]);
    }
    await connection.commit();
  } finally {
    connection.release();
  }
};

/** ROUNDS rounds of four writers each: the service, mysql2 into records, mysql2 into a copy without the index; rows/s. */
export async function bulkRounds(pool: Pool, inputs: BenchInputs): Promise<{ service: number[]; raw: number[]; plain: number[] }> {
  const { batches, postBatch } = inputs;
  const raw = insertRaw(pool, batches);
  await pool.query('create table records_plain like records');
  const bulk: { service: number[]; raw: number[]; plain: number[] } = { service: [], raw: [], plain: [] };
  for (let round = 1; round <= ROUNDS; round += 1) {
    console.log(`bulk writes, round ${round}/${ROUNDS}`);
    bulk.service.push(await fourWriters(batches.length, postBatch));
    bulk.raw.push(await fourWriters(batches.length, raw('records')));
    bulk.plain.push(await fourWriters(batches.length, raw('records_plain')));
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
