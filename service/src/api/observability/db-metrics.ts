import type { Knex } from 'knex';
import type { Metrics } from './metrics.js';

type QueryEvent = { __knexQueryUid?: string; sql?: string; method?: string };

/** Times every query knex runs, labelled by statement kind (select, insert, ...). */
export function observeQueries(knex: Knex, metrics: Metrics): void {
  const started = new Map<string, { at: bigint; operation: string }>();
  const finish = (outcome: 'ok' | 'error') => (_: unknown, query: QueryEvent) => {
    const uid = query.__knexQueryUid;
    const start = uid ? started.get(uid) : undefined;
    if (!uid || !start) return;
    started.delete(uid);
    metrics.dbQueryDuration.observe({ operation: start.operation, outcome }, Number(process.hrtime.bigint() - start.at) / 1e9);
  };
  knex.on('query', (query: QueryEvent) => {
    if (!query.__knexQueryUid) return;
    const operation = /^\s*(\w+)/.exec(query.sql ?? '')?.[1]?.toLowerCase() ?? query.method ?? 'other';
    started.set(query.__knexQueryUid, { at: process.hrtime.bigint(), operation });
  });
  knex.on('query-response', finish('ok'));
  knex.on('query-error', (error: unknown, query: QueryEvent) => finish('error')(error, query));
}
