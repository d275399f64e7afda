import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import pino from 'pino';
import { createPreparerPool, READ_ON_WORKER_FROM_BYTES } from '../../../../service/src/api/data/preparer-pool.js';
import { inlinePreparers, type PreparerSession } from '../../../../service/src/api/data/preparers.js';
import type { Engine } from '../../../../service/src/api/data/engine.js';
import { readItemsDocument } from '../../../../service/src/api/domain/bulk-items.js';
import { InvalidInput, TooManyItems, Unavailable } from '../../../../service/src/api/domain/errors.js';
import type { HeldRecords, RecordBatch, StreamReader } from '../../../../service/src/api/domain/ports.js';
import type { StreamStep } from '../../../../service/src/api/domain/stream-items.js';
import type { NewRecord } from '../../../../service/src/api/domain/record.js';
import { waitFor } from '../../../support/wait.js';

const silent = pino({ level: 'silent' });
const record = (title: string | null, i: number): NewRecord => ({ title, uri: `https://example.com/${i}`, dateMs: i * 86_400_000, dateRaw: `day ${i}` });
const batch = (from: number, count: number) => Array.from({ length: count }, (_, i) => record(i % 7 === 0 ? null : `Ünïcode title ${from + i} ÆØ`, from + i));

/** Bytes as hex: a Buffer comes back from a worker as a plain Uint8Array. */
function comparable(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (Array.isArray(value)) return value.map(comparable);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, each]) => [key, comparable(each)]));
  return value;
}

/** One transaction's calls, in the order write-transaction.ts makes them: a batch that fills a group, then one left for commit. */
async function transcript(session: PreparerSession, from = 0): Promise<unknown[]> {
  const steps: unknown[] = [];
  steps.push(await session.records(batch(from, 100)), await session.inserted(1_000 + from));
  steps.push(await session.records(batch(from + 100, 40)), await session.inserted(5_000 + from));
  steps.push(await session.finish());
  session.close();
  return steps.map(comparable);
}

/** A bulk JSON body of `count` items, every fifth one invalid (no year in its date). */
function documentOf(count: number): Buffer {
  const items = Array.from({ length: count }, (_, i) => ({ title: `Ünïcode title ${i} ÆØ`, uri: `https://example.com/${i}`, date: i % 5 === 4 ? 'May 23' : `2020-01-${String(1 + (i % 28)).padStart(2, '0')}` }));
  return Buffer.from(JSON.stringify({ items }));
}

/** An NDJSON body of `count` items (every fifth without a year, ten not JSON: 792 valid), cut into chunks of `chunkBytes`. */
function ndjsonBodyIn(count: number, chunkBytes: number): Buffer[] {
  const lines = Array.from({ length: count }, (_, i) =>
    i % 97 === 50 ? '{"title": ' : JSON.stringify({ title: `Ünïcode title ${i} ÆØ`, uri: `https://example.com/${i}`, date: i % 5 === 4 ? 'May 23' : '2020-01-02' }),
  );
  const body = Buffer.from(`${lines.join('\n')}\n`);
  return Array.from({ length: Math.ceil(body.length / chunkBytes) }, (_, i) => body.subarray(i * chunkBytes, (i + 1) * chunkBytes));
}

/** Every step of reading `chunks`, then the end. */
async function stepsOf(reader: StreamReader, chunks: Buffer[]): Promise<Array<StreamStep<RecordBatch>>> {
  const steps: Array<StreamStep<RecordBatch>> = [];
  for (const chunk of chunks) steps.push(await reader.push(chunk));
  steps.push(await reader.end());
  return steps;
}

/** The nice value of each thread of this process (Linux: /proc/self/task/TID/stat, field 19). */
function threadNiceValues(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

describe('write preparer threads yield the CPU to the event loop (data/thread-priority.ts)', function () {
  it('run at the nice value they are given, and leave every other thread as it was', async () => {
    const before = threadNiceValues();
    expect(before, 'no thread at 7 yet').to.not.include(7);
    const yielding = createPreparerPool({ size: 2, nice: 7, logger: silent });
    try {
      await yielding.ready;
      await waitFor('two threads at nice 7', async () => threadNiceValues().filter((nice) => nice === 7).length === 2);
      expect(threadNiceValues().filter((nice) => nice !== 7 && nice !== 0)).to.deep.equal([]);
      // They still prepare writes.
      expect(await transcript(yielding.open({ engine: 'mysql', groupSize: 64 }))).to.deep.equal(await transcript(inlinePreparers().open({ engine: 'mysql', groupSize: 64 })));
    } finally {
      await yielding.close();
    }
  });
});

describe('write preparers on worker threads (data/preparer-pool.ts)', function () {
  let pool: ReturnType<typeof createPreparerPool>;
  before(() => {
    pool = createPreparerPool({ size: 2, logger: silent, readOnWorkerFrom: 0 });
  });
  after(() => pool.close());

  for (const engine of ['mysql', 'sqlite'] as Engine[]) {
    it(`prepares on a worker exactly the statements prepared inline (${engine})`, async () => {
      const onWorker = await transcript(pool.open({ engine, groupSize: 64 }));
      const inline = await transcript(inlinePreparers().open({ engine, groupSize: 64 }));
      expect(onWorker).to.deep.equal(inline);
      // The first batch fills a group (its posting rows come with its ids); the second, 40 records,
      // is written at commit as a fragment, and listed: the transcript holds postings, not just records.
      const filled = onWorker[1] as Array<{ table: string }>;
      expect(filled.map((insert) => insert.table)).to.deep.equal(['title_postings']);
      const finish = onWorker.at(-1) as { fragmentRecords: number; inserts: Array<{ table: string }> };
      expect(finish.fragmentRecords).to.equal(40);
      expect(finish.inserts.map((insert) => insert.table)).to.deep.equal(['title_postings', 'index_fragments']);
    });
  }

  it('keeps concurrent sessions apart: each gets the answers to its own records and ids', async () => {
    const starts = [0, 7, 300, 1_000, 4_321, 9_999];
    const transcripts = await Promise.all(starts.map((from) => transcript(pool.open({ engine: 'mysql', groupSize: 64 }), from)));
    for (const [i, from] of starts.entries()) {
      expect(transcripts[i], `session starting at ${from}`).to.deep.equal(await transcript(inlinePreparers().open({ engine: 'mysql', groupSize: 64 }), from));
    }
  });

  it('reads a document on a worker: its accepted records stay there, held, and only the rejections come back', async () => {
    const document = documentOf(1_000);
    const { accepted, rejected } = await pool.read(document);
    const inline = readItemsDocument(document);
    expect(Array.isArray(accepted), 'records built on the main thread').to.equal(false);
    expect((accepted as HeldRecords).count).to.equal(800);
    expect(rejected).to.deep.equal(inline.rejected);
    expect(await pool.held()).to.equal(1);
    (accepted as HeldRecords).release();
    (accepted as HeldRecords).release();
    expect(await pool.held(), 'after release, twice').to.equal(0);
    // Nothing accepted, nothing held: there is nothing to release.
    const none = await pool.read(Buffer.from(JSON.stringify({ items: [{ date: 'never' }] })));
    expect(none.accepted).to.deep.equal([]);
    expect(await pool.held()).to.equal(0);
  });

  it('reads small documents where they arrive, and from READ_ON_WORKER_FROM_BYTES (32 KiB) on a worker', async () => {
    const defaults = createPreparerPool({ size: 1, logger: silent });
    try {
      expect(documentOf(200).length).to.be.below(READ_ON_WORKER_FROM_BYTES);
      const small = await defaults.read(documentOf(200));
      expect(Array.isArray(small.accepted), 'about 20 KB: read inline').to.equal(true);
      expect(small.accepted).to.deep.equal(readItemsDocument(documentOf(200)).accepted);
      const large = documentOf(1_000);
      expect(large.length).to.be.at.least(READ_ON_WORKER_FROM_BYTES);
      const { accepted } = await defaults.read(large);
      expect((accepted as HeldRecords).count).to.equal(800);
      (accepted as HeldRecords).release();
      expect(await defaults.held()).to.equal(0);
    } finally {
      await defaults.close();
    }
  });

  it('reads a stream that declares less than READ_ON_WORKER_FROM_BYTES where it arrives, and any other on a worker', async () => {
    const defaults = createPreparerPool({ size: 1, logger: silent });
    try {
      const options = { maxLineBytes: 1_024, batchSize: 1_000, atomic: false };
      const small = ndjsonBodyIn(200, 4_096);
      const smallBytes = small.reduce((sum, chunk) => sum + chunk.length, 0);
      expect(smallBytes).to.be.below(READ_ON_WORKER_FROM_BYTES);
      const inline = (await stepsOf(defaults.stream(options, smallBytes), small)).flatMap((step) => step.batches);
      expect(inline.map((each) => Array.isArray(each)), 'about 20 KB declared: read inline').to.deep.equal([true]);
      for (const declared of [null, READ_ON_WORKER_FROM_BYTES]) {
        const reader = defaults.stream(options, declared);
        const held = (await stepsOf(reader, small)).flatMap((step) => step.batches);
        expect(held.map((each) => Array.isArray(each)), `declared ${declared}: read on the worker`).to.deep.equal([false]);
        held.forEach((each) => (each as HeldRecords).release());
        reader.close();
      }
      expect(await defaults.held()).to.equal(0);
    } finally {
      await defaults.close();
    }
  });

  it('refuses a document as the domain does, with its error and the field at fault', async () => {
    const cases: Array<[Buffer, typeof InvalidInput | typeof TooManyItems, string]> = [
      [Buffer.from('{"items": ['), InvalidInput, '#'],
      [Buffer.from([0x7b, 0xff, 0x7d]), InvalidInput, '#'],
      [Buffer.from('{"items": {}}'), InvalidInput, '#/items'],
      [Buffer.from(JSON.stringify({ items: Array.from({ length: 10_001 }, () => ({})) })), TooManyItems, '#/items'],
    ];
    for (const [document, kind, pointer] of cases) {
      const error = await pool.read(document).then(() => null, (caught: unknown) => caught);
      const expected = await inlinePreparers().read(document).then(() => null, (caught: unknown) => caught);
      expect(error, document.subarray(0, 20).toString()).to.be.instanceOf(kind);
      expect((error as InvalidInput).errors.map((each) => ('pointer' in each ? each.pointer : null))).to.include(pointer);
      expect((error as InvalidInput).errors).to.deep.equal((expected as InvalidInput).errors);
      expect((error as Error).message).to.equal((expected as Error).message);
    }
    expect(await pool.held()).to.equal(0);
  });

  it('reads an NDJSON stream on a worker: its batches stay there, held, and only the rejections come back', async () => {
    const chunks = ndjsonBodyIn(1_000, 4_096);
    const options = { maxLineBytes: 1_024, batchSize: 300, atomic: false };
    const reader = pool.stream(options, null);
    const steps = await stepsOf(reader, chunks);
    const inline = await stepsOf(inlinePreparers().stream(options, null), chunks);
    const batches = steps.flatMap((step) => step.batches);
    const inlineBatches = inline.flatMap((step) => step.batches) as NewRecord[][];
    expect(batches.every((each) => !Array.isArray(each)), 'records built on the main thread').to.equal(true);
    expect(batches.map((each) => (each as HeldRecords).count)).to.deep.equal([300, 300, 192]);
    expect(inlineBatches.map((each) => each.length)).to.deep.equal([300, 300, 192]);
    expect(steps.map((step) => step.rejected), 'the same rejections, step by step').to.deep.equal(inline.map((step) => step.rejected));
    expect(steps.flatMap((step) => step.rejected)).to.deep.include({ line: 51, field: 'line', message: 'malformed JSON' });
    expect(await pool.held(), 'three batches and the open stream').to.equal(4);
    // What is held is what the event loop would have built: prepared alike, batch by batch.
    for (const [i, held] of (batches as HeldRecords[]).entries()) {
      const session = pool.open({ engine: 'mysql', groupSize: 64 }, held);
      expect(comparable(await session.records({ held, start: 0, end: held.count }))).to.deep.equal(comparable(await inlinePreparers().open({ engine: 'mysql', groupSize: 64 }).records(inlineBatches[i]!)));
      session.close();
      held.release();
    }
    reader.close();
    reader.close();
    expect(await pool.held(), 'after release and close (twice)').to.equal(0);
  });

  it('reads two streams at once on two workers, and counts what each gives back (a document goes where no stream is open)', async () => {
    const options = { maxLineBytes: 1_024, batchSize: 10, atomic: false };
    const chunk = ndjsonBodyIn(20, 65_536)[0]!;
    const [streamA, streamB] = [pool.stream(options, null), pool.stream(options, null)];
    const [a, b] = (await Promise.all([streamA.push(chunk), streamB.push(chunk)])).map((step) => step.batches[0] as HeldRecords) as [HeldRecords, HeldRecords];
    const heldElsewhere = async (near: HeldRecords, foreign: HeldRecords, what: string) => {
      const session = pool.open({ engine: 'mysql' }, near);
      await session.records({ held: foreign, start: 0, end: 4 }).then(
        () => expect.fail(what),
        (error: Error) => expect(error.message).to.match(/held elsewhere/),
      );
      session.close();
    };
    await heldElsewhere(a, b, 'two streams were read on one worker');
    a.release();
    b.release();
    streamB.close();
    // Only stream A is open now: a document goes to the other worker, unless that one still counted
    // the batch or the stream it gave back.
    const document = (await pool.read(documentOf(5))).accepted as HeldRecords;
    const [next, ...more] = (await streamA.push(chunk)).batches as HeldRecords[];
    await heldElsewhere(next!, document, "a document was read on an open stream's worker");
    [next!, ...more].forEach((held) => held.release());
    document.release();
    streamA.close();
    expect(await pool.held()).to.equal(0);
  });

  it('prepares held records, part by part, exactly as the same records in hand', async () => {
    const document = documentOf(300);
    const { accepted } = await pool.read(document);
    const held = accepted as HeldRecords;
    const inHand = readItemsDocument(document).accepted;
    const session = pool.open({ engine: 'mysql', groupSize: 64 }, held);
    const inline = inlinePreparers().open({ engine: 'mysql', groupSize: 64 });
    for (const [start, end, firstId] of [[0, 100, 1], [100, 240, 500]] as const) {
      expect(comparable(await session.records({ held, start, end }))).to.deep.equal(comparable(await inline.records(inHand.slice(start, end))));
      expect(comparable(await session.inserted(firstId))).to.deep.equal(comparable(await inline.inserted(firstId)));
    }
    expect(comparable(await session.finish())).to.deep.equal(comparable(await inline.finish()));
    session.close();
    held.release();
  });

  it('reads two documents at once on two workers, and refuses each in the session of the other', async () => {
    // Each worker numbers what it holds from 1: only the pool can tell the two documents apart.
    const reads = await Promise.all([pool.read(documentOf(5)), pool.read(documentOf(10))]);
    const [first, second] = reads.map(({ accepted }) => accepted as HeldRecords) as [HeldRecords, HeldRecords];
    try {
      const onFirst = pool.open({ engine: 'mysql' }, first);
      const onSecond = pool.open({ engine: 'mysql' }, second);
      for (const [session, foreign] of [[onFirst, second], [onSecond, first]] as const) {
        await session.records({ held: foreign, start: 0, end: 4 }).then(
          () => expect.fail("another worker's records were prepared"),
          (error: Error) => expect(error.message).to.match(/held elsewhere/),
        );
      }
      const inline = inlinePreparers().open({ engine: 'mysql' });
      await inline.records({ held: first, start: 0, end: 4 }).then(
        () => expect.fail('held records were prepared inline'),
        (error: Error) => expect(error.message).to.match(/only its own sessions/),
      );
      // Each session still prepares its own document's records (4 of 5, and 8 of 10, are valid).
      for (const [session, own, count] of [[onFirst, first, 5], [onSecond, second, 10]] as const) {
        const expected = await inlinePreparers().open({ engine: 'mysql' }).records(readItemsDocument(documentOf(count)).accepted);
        expect(comparable(await session.records({ held: own, start: 0, end: own.count }))).to.deep.equal(comparable(expected));
      }
      onFirst.close();
      onSecond.close();
    } finally {
      first.release();
      second.release();
    }
    expect(await pool.held()).to.equal(0);
  });

  it('refuses a second batch before the first was given its ids (its titles would be indexed under the wrong ids)', async () => {
    const session = inlinePreparers().open({ engine: 'mysql' });
    await session.records(batch(0, 3));
    await session.records(batch(3, 3)).then(
      () => expect.fail('a second batch was prepared while the first waited for its ids'),
      (error: Error) => expect(error.message).to.match(/previous batch/),
    );
  });

  it('fails only the call whose preparation throws', async () => {
    const broken = pool.open({ engine: 'mysql' });
    // Validation never lets a number through as a title; here it makes folding throw inside the worker.
    await broken.records([{ title: 5 as unknown as string, uri: null, dateMs: 0, dateRaw: '1970' }]).then(
      () => expect.fail('a title that cannot be folded was prepared'),
      (error: Error) => expect(error.name).to.equal('TypeError'),
    );
    broken.close();
    const inline = await transcript(inlinePreparers().open({ engine: 'mysql', groupSize: 64 }));
    expect(await transcript(pool.open({ engine: 'mysql', groupSize: 64 }))).to.deep.equal(inline);
  });

  it('opens no session on a dead worker while a live one is idle', async () => {
    const pair = createPreparerPool({ size: 2, logger: silent, workerUrl: new URL('../../../support/exiting-preparer-worker.ts', import.meta.url) });
    try {
      await pair.ready;
      const kill = async () => {
        const session = pair.open({ engine: 'mysql' });
        await session.records(batch(0, 1)).catch(() => undefined);
        session.close();
      };
      // The first worker dies and is replaced at once; its replacement dies and waits to be replaced.
      await kill();
      await new Promise((resolve) => setTimeout(resolve, 50));
      await kill();
      const session = pair.open({ engine: 'mysql' });
      expect(await session.finish()).to.deep.equal({ inserts: [], fragmentRecords: 0 });
      session.close();
    } finally {
      await pair.close();
    }
  });

  it('answers a document whose worker died reading it as Unavailable (a 503: nothing was stored)', async () => {
    const dying = createPreparerPool({ size: 1, logger: silent, workerUrl: new URL('../../../support/exiting-preparer-worker.ts', import.meta.url), readOnWorkerFrom: 0 });
    try {
      const error = await dying.read(documentOf(3)).then(() => null, (caught: unknown) => caught);
      expect(error).to.be.instanceOf(Unavailable);
      expect(((error as Unavailable).cause as Error).message).to.match(/exited \(3\)/);
    } finally {
      await dying.close();
    }
  });

  it('answers a stream whose worker died reading it as Unavailable', async () => {
    const dying = createPreparerPool({ size: 1, logger: silent, workerUrl: new URL('../../../support/exiting-preparer-worker.ts', import.meta.url) });
    try {
      const reader = dying.stream({ maxLineBytes: 1_024, batchSize: 10, atomic: false }, null);
      const error = await reader.push(ndjsonBodyIn(3, 4_096)[0]!).then(() => null, (caught: unknown) => caught);
      expect(error).to.be.instanceOf(Unavailable);
      expect(((error as Unavailable).cause as Error).message).to.match(/exited \(3\)/);
      reader.close();
    } finally {
      await dying.close();
    }
  });

  it('answers an error the worker answered to a read as that error, not Unavailable (a bug is a 500, not a 503 to retry)', async () => {
    const erring = createPreparerPool({ size: 1, logger: silent, workerUrl: new URL('../../../support/erring-preparer-worker.ts', import.meta.url), readOnWorkerFrom: 0 });
    try {
      const error = await erring.read(documentOf(3)).then(() => null, (caught: unknown) => caught);
      expect(error).to.be.instanceOf(Error).and.not.to.be.instanceOf(Unavailable);
      expect((error as Error).message).to.equal('a bug in reading');
      // Nothing is held, and the worker, still alive, answers the next read alike.
      const again = await erring.read(documentOf(3)).then(() => null, (caught: unknown) => caught);
      expect((again as Error).message).to.equal('a bug in reading');
    } finally {
      await erring.close();
    }
  });

  it('fails the calls of a worker that dies, and replaces it', async () => {
    const dying = createPreparerPool({ size: 1, logger: silent, workerUrl: new URL('../../../support/exiting-preparer-worker.ts', import.meta.url) });
    try {
      const session = dying.open({ engine: 'mysql' });
      await session.records(batch(0, 3)).then(
        () => expect.fail('a worker that exited answered'),
        (error: Error) => expect(error.message).to.match(/exited \(3\)/),
      );
      // The session was on the dead worker: it fails at once instead of waiting forever.
      await session.finish().then(
        () => expect.fail('a session of a dead worker answered'),
        (error: Error) => expect(error.message).to.match(/exited/),
      );
      session.close();
      // A replacement starts (the first one at once): sessions opened on it are answered again.
      let answer: unknown = null;
      await waitFor('a replacement worker', async () => {
        const next = dying.open({ engine: 'mysql' });
        answer = await next.finish().catch(() => null);
        next.close();
        return answer !== null;
      }, 5_000, 20);
      expect(answer).to.deep.equal({ inserts: [], fragmentRecords: 0 });
    } finally {
      await dying.close();
    }
  });
});
