import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { latencies, type Figure } from './harness.js';

/**
 * The reference a user would pick for substring search: PostgreSQL 15 with a pg_trgm GIN index
 * over the same folded titles, loaded with COPY into a table with and without the index.
 */
export type PostgresReference = { records: number; indexBytesPerRecord: number; copyPlain: number; copyIndexed: number; contains: Figure };

const tsv = (titles: string[]) => titles.map((title, i) => `${i + 1}\t${title.replace(/[\\\t\n\r]/g, ' ')}\n`).join('');

async function copyRate(client: pg.Client, table: string, body: string, records: number): Promise<number> {
  const started = performance.now();
  await pipeline(Readable.from([body]), client.query(copyFrom(`copy ${table} (id, title_folded) from stdin`)));
  return records / ((performance.now() - started) / 1000);
}

/** Starts PostgreSQL (scripts/postgres) in a temporary directory, measures, and stops it. */
export async function measurePostgres(foldedTitles: string[], terms: string[]): Promise<PostgresReference> {
  const dir = mkdtempSync(join(tmpdir(), 'records-bench-pg.'));
  try {
    const started = execFileSync('scripts/postgres', ['start', dir], { encoding: 'utf8' });
    const url = /POSTGRES_URL=(\S+)/.exec(started)?.[1];
    if (!url) throw new Error(`scripts/postgres printed no POSTGRES_URL:\n${started}`);
    return await measure(url, foldedTitles, terms);
  } finally {
    execFileSync('scripts/postgres', ['stop', dir]);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measure(url: string, foldedTitles: string[], terms: string[]): Promise<PostgresReference> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('create extension if not exists pg_trgm');
    await client.query('drop table if exists titles_plain, titles');
    await client.query('create table titles_plain (id bigint primary key, title_folded text not null)');
    await client.query('create table titles (id bigint primary key, title_folded text not null)');
    await client.query('create index titles_trgm on titles using gin (title_folded gin_trgm_ops)');
    const body = tsv(foldedTitles);
    const copyPlain = await copyRate(client, 'titles_plain', body, foldedTitles.length);
    const copyIndexed = await copyRate(client, 'titles', body, foldedTitles.length);
    // VACUUM merges GIN's pending list into the index, as autovacuum would: the size it settles at.
    await client.query('vacuum analyze titles');
    const { rows } = await client.query<{ bytes: string }>("select pg_relation_size('titles_trgm') as bytes");
    const contains = await latencies(terms, (term) => client.query("select id, title_folded from titles where title_folded like $1 order by id limit 101", [`%${term}%`]));
    return { records: foldedTitles.length, indexBytesPerRecord: Number(rows[0]?.bytes) / foldedTitles.length, copyPlain, copyIndexed, contains };
  } finally {
    await client.end();
  }
}
