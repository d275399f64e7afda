import { createDatabase } from '../../service/src/api/data/database.js';
import { createIndexCompactor } from '../../service/src/api/data/index-compactor.js';

/**
 * Starts merging the fragments of DATABASE_URL and stops midway, inside the merge's transaction,
 * after its first chunk of trigrams is rewritten: prints `midway` and waits to be killed
 * (tests/service/index-compaction-crash.test.ts).
 */
const db = createDatabase(process.env.DATABASE_URL ?? '');
const limits = { groupSize: 8192, mergeAt: 1, span: 1 << 20 };
await createIndexCompactor({
  db,
  limits,
  afterChunk: async () => {
    process.stdout.write('midway\n');
    // Holds the transaction open (and the process alive) until the test kills it.
    await new Promise(() => setInterval(() => undefined, 1000));
  },
}).compact();
process.stdout.write('finished without stopping\n');
process.exit(1);
