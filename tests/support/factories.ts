import { randomBytes } from 'node:crypto';

export type ItemInput = { title?: string | null; uri?: string | null; date?: unknown };

/** A unique tag per test: put it in titles, then search for it to read back only your rows. */
export function uniqueTag(prefix = 't'): string {
  return `${prefix}${randomBytes(5).toString('hex')}`;
}

export function buildItem(overrides: ItemInput = {}): ItemInput {
  return { title: `a record ${uniqueTag()}`, uri: 'https://example.org/records/1', date: '2015-06-01', ...overrides };
}
