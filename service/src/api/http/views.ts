import { encodeCursor } from '../domain/cursor.js';
import type { SearchPage } from '../domain/ports.js';
import type { StoredRecord } from '../domain/record.js';
import { filtersKey, type SearchQuery } from '../domain/search-query.js';

/** A record as the API serves it (service/openapi.yaml, Record). */
export type RecordView = {
  id: number;
  title: string | null;
  uri: string | null;
  date: string;
  rawDate: string;
};

/** A search response (service/openapi.yaml, SearchResult). */
export type SearchResultView = { items: RecordView[]; next: string | null };

function toView(record: StoredRecord): RecordView {
  return {
    id: record.id,
    title: record.title,
    uri: record.uri,
    date: new Date(record.dateMs).toISOString(),
    rawDate: record.dateRaw,
  };
}

/** The response document of GET /v1/{id}; the read cache stores it as is. */
export const recordDocument = (record: StoredRecord): string => JSON.stringify(toView(record));

/** The response document of GET /v1/: the page, and a cursor bound to the query's filters. */
export function searchDocument(page: SearchPage, query: SearchQuery): string {
  const result: SearchResultView = {
    items: page.records.map(toView),
    next: page.next ? encodeCursor(page.next, filtersKey(query)) : null,
  };
  return JSON.stringify(result);
}
