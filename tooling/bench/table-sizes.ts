import type { Pool } from 'mysql2/promise';

/**
 * The records in the bench database and, per record, the bytes and rows of the search index
 * (`title_postings`) and the bytes of the records table, from InnoDB's statistics after ANALYZE.
 */
export async function tableSizes(pool: Pool, schema: string) {
  await pool.query('analyze table records, title_postings');
  const [tables] = (await pool.query(
    'select table_name as name, data_length + index_length as bytes, table_rows as row_count from information_schema.tables where table_schema = ?',
    [schema],
  )) as unknown as [Array<{ name: string; bytes: number; row_count: number }>];
  const [[counted]] = (await pool.query('select count(*) as n from records')) as unknown as [[{ n: number }]];
  const records = Number(counted.n);
  const table = (name: string) => tables.find((candidate) => candidate.name === name);
  return {
    records,
    bytes: Number(table('title_postings')?.bytes ?? 0) / records,
    rows: Number(table('title_postings')?.row_count ?? 0) / records,
    recordBytes: Number(table('records')?.bytes ?? 0) / records,
  };
}
