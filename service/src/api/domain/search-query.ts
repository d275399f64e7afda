import type { Position } from './cursor.js';

/** A validated, canonical search: folded terms, instants in ms, a decoded cursor. */
export type SearchQuery = {
  after: number | null;
  before: number | null;
  contains: string | null;
  uri: string | null;
  limit: number;
  cursor: Position | null;
};

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

/**
 * The filters that decide which records match, in a fixed order. Equal keys mean equal result
 * sets, so the key binds cursors to their query (and serves as a cache key).
 */
export function filtersKey(query: Pick<SearchQuery, 'after' | 'before' | 'contains' | 'uri'>): string {
  return JSON.stringify([query.after, query.before, query.contains, query.uri]);
}
