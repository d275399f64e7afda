import { expect } from 'chai';
import { IdempotencyKeyReused, InvalidInput, UnprocessableItems } from '../../../../service/src/api/domain/errors.js';
import type { IdempotencyRequest } from '../../../../service/src/api/domain/idempotent-write.js';
import { createRecordsService } from '../../../../service/src/api/domain/records-service.js';
import { foldText, foldUri } from '../../../../service/src/api/domain/text.js';
import { createInMemoryPorts } from '../../../support/in-memory-ports.js';

/** The domain's rules through its ports, in memory: no database, no HTTP. */

function service(streamBatchSize = 1) {
  const ports = createInMemoryPorts();
  const counted = { stored: 0, rejected: 0 };
  const records = createRecordsService({
    ...ports,
    observer: { stored: (n) => (counted.stored += n), rejected: (n) => (counted.rejected += n) },
    streamBatchSize,
  });
  return { records, ports, counted };
}

const item = (title: string, date = '2020-01-01') => ({ title, uri: null, date });
/** A request's body as the service receives it: bytes, which the domain's reader parses. */
const documentOf = (body: unknown) => Buffer.from(JSON.stringify(body));
const key = (requestHash: string, name = 'k1'): IdempotencyRequest => ({ scope: 'caller', key: name, digest: Promise.resolve(requestHash), ttlMs: 60_000 });
/** An NDJSON body of `items`, a line per chunk. */
async function* lines(...items: unknown[]): AsyncGenerator<Uint8Array> {
  for (const item of items) yield Buffer.from(`${JSON.stringify(item)}\n`);
}

describe('the records domain, through in-memory ports', function () {
  it('stores valid items and reports invalid ones', async function () {
    const { records, ports, counted } = service();
    const outcome = await records.storeItems(documentOf({ items: [item('a'), item('b', 'May 23'), item('c')] }), { atomic: false, idempotency: null });
    expect(outcome.value.inserted).to.equal(2);
    expect(outcome.value.rejected).to.deep.equal([{ index: 1, field: 'date', message: 'date has no year' }]);
    expect(ports.records.map((record) => record.title)).to.deep.equal(['a', 'c']);
    expect(counted).to.deep.equal({ stored: 2, rejected: 1 });
  });

  it('limits titles and uris in characters (code points), not UTF-16 units', async function () {
    const { records } = service();
    // An emoji is one character and two UTF-16 units: 255 of them fit a title, 256 do not.
    const outcome = await records.storeItems(
      documentOf({ items: [item('😀'.repeat(255)), item('😀'.repeat(256)), { uri: '😀'.repeat(2048), date: '2020-01-01' }, { uri: `${'😀'.repeat(2048)}x`, date: '2020-01-01' }] }),
      { atomic: false, idempotency: null },
    );
    expect(outcome.value.inserted).to.equal(2);
    expect(outcome.value.rejected).to.deep.equal([
      { index: 1, field: 'title', message: 'must be at most 255 characters' },
      { index: 3, field: 'uri', message: 'must be at most 2048 characters' },
    ]);
  });

  it('names an unknown field by its first 64 characters (code points), then …', async function () {
    const { records } = service();
    const names = ['x'.repeat(64), 'x'.repeat(65), '😀'.repeat(64), '😀'.repeat(200), `${'x'.repeat(63)}😀😀`];
    const outcome = await records.storeItems(documentOf({ items: names.map((name) => ({ [name]: 1, date: '2020-01-01' })) }), { atomic: false, idempotency: null });
    expect(outcome.value.rejected.map((rejection) => rejection.field)).to.deep.equal(['x'.repeat(64), `${'x'.repeat(64)}…`, '😀'.repeat(64), `${'😀'.repeat(64)}…`, `${'x'.repeat(63)}😀…`]);
  });

  it('searches as the real stores do: folded titles (any case, any accents) and uris', async function () {
    const { records } = service();
    await records.storeItems(documentOf({ items: [{ title: 'Crème Brûlée CAFÉ', uri: 'https://Example.org/Ñandú', date: '2020-01-01' }, item('other')] }), { atomic: false, idempotency: null });
    const query = { after: null, before: null, uri: null, limit: 10, cursor: null };
    const titles = async (contains: string | null, uri: string | null = null) => (await records.search({ ...query, contains, uri })).records.map((record) => record.title);
    expect(await titles(foldText('creme brulee cafe'))).to.deep.equal(['Crème Brûlée CAFÉ']);
    expect(await titles(null, foldUri('example.org/ñandú'))).to.deep.equal(['Crème Brûlée CAFÉ']);
  });

  it('with atomic, stores nothing when any item is invalid, and says which', async function () {
    const { records, ports } = service();
    const attempt = records.storeItems(documentOf({ items: [item('a'), item('b', '')] }), { atomic: true, idempotency: null });
    const error = await attempt.then(() => null, (caught: unknown) => caught);
    expect(error).to.be.instanceOf(UnprocessableItems);
    expect((error as UnprocessableItems).errors).to.deep.equal([{ pointer: '#/items/1/date', detail: 'date is empty' }]);
    expect(ports.records).to.deep.equal([]);
  });

  it('refuses a body that is not {"items": [...]} before storing anything', async function () {
    const { records, ports } = service();
    const error = await records.storeItems(documentOf([item('a')]), { atomic: false, idempotency: null }).catch((caught: unknown) => caught);
    expect(error).to.be.instanceOf(InvalidInput);
    expect(ports.records).to.deep.equal([]);
  });

  it('with atomic, rolls back a stream whose batches were already written', async function () {
    const { records, ports } = service(1);
    const stream = lines(item('a'), item('b'), item('c', 'nope'));
    const error = await records.storeStream(stream, { atomic: true, idempotency: null, maxLineBytes: 1024, declaredBytes: null }).catch((caught: unknown) => caught);
    expect(error).to.be.instanceOf(UnprocessableItems);
    expect((error as UnprocessableItems).extensions.rejectedCount).to.equal(1);
    expect(ports.records).to.deep.equal([]);
  });

  it('runs a write once per key: a retry is replayed, another request with the key is refused', async function () {
    const { records, ports, counted } = service();
    const first = await records.storeItems(documentOf({ items: [item('a')] }), { atomic: false, idempotency: key('digest-1') });
    const retry = await records.storeItems(documentOf({ items: [item('a')] }), { atomic: false, idempotency: key('digest-1') });
    expect(first.replayed).to.equal(false);
    expect(retry).to.deep.equal({ value: first.value, replayed: true });
    expect(ports.records).to.have.length(1);
    expect(counted.stored, 'a replay is not counted again').to.equal(1);
    const other = await records.storeItems(documentOf({ items: [item('b')] }), { atomic: false, idempotency: key('digest-2') }).catch((caught: unknown) => caught);
    expect(other).to.be.instanceOf(IdempotencyKeyReused);
    expect(ports.records).to.have.length(1);
  });

  it('reads what it stored: by id, and by search in date order', async function () {
    const { records } = service();
    const { value } = await records.storeItems(documentOf({ items: [item('Zeta', '2021-01-01'), item('alpha zeta', '2020-01-01')] }), { atomic: false, idempotency: null });
    expect((await records.findRecord(value.ids[0] as number))?.title).to.equal('Zeta');
    expect(await records.findRecord(999)).to.equal(null);
    const page = await records.search({ after: null, before: null, contains: 'zeta', uri: null, limit: 1, cursor: null });
    expect(page.records.map((record) => record.title)).to.deep.equal(['alpha zeta']);
    expect(page.next).to.not.equal(null);
  });
});
