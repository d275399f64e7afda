import type { RecordsRepository } from '../data/records-repository.js';
import { itemsOf, validateItems, type Rejection } from './bulk-items.js';
import { encodeCursor } from './cursor.js';
import { InvalidInput, NotFound, UnprocessableItems } from './errors.js';
import { toView, type RecordView } from './record.js';
import { filtersKey, parseSearchQuery } from './search-query.js';

export type BulkResult = { inserted: number; ids: number[]; rejected: Rejection[] };
export type SearchResult = { items: RecordView[]; next: string | null };

const ID_PATTERN = /^[1-9]\d{0,15}$/;

export function parseRecordId(text: string): number {
  const id = Number(text);
  if (!ID_PATTERN.test(text) || !Number.isSafeInteger(id)) {
    throw new InvalidInput('The record id is not valid.', [
      { parameter: 'id', detail: `must be an integer from 1 to ${Number.MAX_SAFE_INTEGER}` },
    ]);
  }
  return id;
}

function rejectionPointer({ index, field }: Rejection): string {
  return field === 'item' ? `#/items/${index}` : `#/items/${index}/${field}`;
}

/** The records use cases: HTTP-free, so routes stay thin and tests can call them directly. */
export function createRecordsService({ repository }: { repository: RecordsRepository }) {
  return {
    async bulkInsert(body: unknown, options: { atomic: boolean }): Promise<BulkResult> {
      const { accepted, rejected } = validateItems(itemsOf(body));
      if (options.atomic && rejected.length > 0) {
        throw new UnprocessableItems(
          `${rejected.length} item(s) are invalid; with atomic=true nothing was stored.`,
          rejected.map((rejection) => ({ pointer: rejectionPointer(rejection), detail: rejection.message })),
          { rejected },
        );
      }
      const ids = accepted.length > 0 ? await repository.insertMany(accepted) : [];
      return { inserted: ids.length, ids, rejected };
    },

    async getById(idText: string): Promise<RecordView> {
      const id = parseRecordId(idText);
      const record = await repository.findById(id);
      if (!record) throw new NotFound(`No record has id ${id}.`);
      return toView(record);
    },

    async search(rawQuery: Record<string, string | string[] | undefined>): Promise<SearchResult> {
      const query = parseSearchQuery(rawQuery);
      const page = await repository.search(query);
      return {
        items: page.records.map(toView),
        next: page.next ? encodeCursor(page.next, filtersKey(query)) : null,
      };
    },
  };
}

export type RecordsService = ReturnType<typeof createRecordsService>;
