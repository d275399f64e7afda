import type { Pool } from 'mysql2/promise';

/** The one number a one-row, one-column query answers (a count, a sum, a max). */
export async function scalar(pool: Pool, sql: string): Promise<number> {
  const [[row]] = (await pool.query(sql)) as unknown as [[Record<string, number | string | null>]];
  return Number(Object.values(row)[0] ?? 0);
}

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
  const records = await scalar(pool, 'select count(*) from records');
  const table = (name: string) => tables.find((candidate) => candidate.name === name);
  return {
    records,
    bytes: Number(table('title_postings')?.bytes ?? 0) / records,
    rows: Number(table('title_postings')?.row_count ?? 0) / records,
    recordBytes: Number(table('records')?.bytes ?? 0) / records,
  };
}
