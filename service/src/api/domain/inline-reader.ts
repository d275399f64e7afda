import { readItemsDocument } from './bulk-items.js';
import type { ItemsReader, StreamReader } from './ports.js';
import { createStreamItems } from './stream-items.js';

/** The `ItemsReader` port on the calling thread: its records are always in hand, nothing to release. */
export const inlineItemsReader: ItemsReader = {
  read: async (document) => readItemsDocument(document),
  stream(options): StreamReader {
    const items = createStreamItems(options);
    return { push: async (chunk) => items.push(chunk), end: async () => items.end(), close: () => {} };
  },
};
