import { expect } from 'chai';
import { Readable } from 'node:stream';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { itemsOf, MalformedInput, prepareFile, prepareStdin, type InputItem } from '../../../service/src/loader/input.js';

/** `records load -`: standard input, read once, its first chunk both sniffed for the format and sent. */
async function itemsFromStdin(chunks: Buffer[]): Promise<InputItem[]> {
  const prepared = await prepareStdin(Readable.from(chunks));
  const items: InputItem[] = [];
  for await (const item of itemsOf(prepared.source, prepared.stdin)) items.push(item);
  return items;
}

describe('the loader reading standard input', function () {
  it('keeps a character that the first chunk cuts in two', async function () {
    for (const body of ['{"items": [{"title": "café", "date": "2020-01-01"}]}', '{"title": "café", "date": "2020-01-01"}\n']) {
      const bytes = Buffer.from(body);
      const cut = bytes.indexOf(Buffer.from('é')) + 1;
      const items = await itemsFromStdin([bytes.subarray(0, cut), bytes.subarray(cut)]);
      expect(items.map((item) => (item.value as { title: string }).title), body).to.deep.equal(['café']);
    }
  });

  it('tells NDJSON from a document when the first chunk holds only part of the first line', async function () {
    const lines = ['{"title": "a", "date": "2020-01-01"}', '{"title": "b", "date": "2020-01-02"}'].join('\n');
    const items = await itemsFromStdin([Buffer.from(lines.slice(0, 10)), Buffer.from(lines.slice(10))]);
    expect(items.map((item) => (item.value as { title: string }).title)).to.deep.equal(['a', 'b']);
  });

  it('reports malformed or cut-short JSON as MalformedInput, not as a crash', async function () {
    for (const body of ['[{"title": "a", "date": "2020-01-01"}, {"title": "b"', '{"items": [{"title": "a"}, }']) {
      const outcome = await itemsFromStdin([Buffer.from(body)]).catch((error: unknown) => error);
      expect(outcome, body).to.be.instanceOf(MalformedInput);
    }
  });

  it('refuses bytes that are not UTF-8, naming the line, rather than sending U+FFFD in their place', async function () {
    const latin1 = Buffer.concat([Buffer.from('{"title": "ok", "date": "2020-01-01"}\n{"title": "caf'), Buffer.from([0xe9]), Buffer.from('", "date": "2020-01-01"}\n')]);
    const document = Buffer.concat([Buffer.from('{"items": [\n{"title": "caf'), Buffer.from([0xe9]), Buffer.from('", "date": "2020-01-01"}]}')]);
    for (const [body, where] of [[latin1, /line 2\b/], [document, /line 2\b/]] as const) {
      // Cut anywhere, even inside the bad sequence's neighbours: the line is still named.
      for (const cut of [1, body.indexOf(0xe9), body.indexOf(0xe9) + 1, body.length - 1]) {
        const outcome = await itemsFromStdin([body.subarray(0, cut), body.subarray(cut)]).catch((error: unknown) => error);
        expect(outcome, `cut at ${cut}`).to.be.instanceOf(MalformedInput);
        expect((outcome as Error).message).to.match(/not valid UTF-8/).and.to.match(where);
      }
    }
  });

  it('refuses a document without an items array instead of loading nothing and calling it done', async function () {
    for (const body of ['{\n  "records": [{"title": "a", "date": "2020-01-01"}]\n}', '{\n  "data": {"items": [{"title": "a", "date": "2020-01-01"}]}\n}']) {
      const outcome = await itemsFromStdin([Buffer.from(body)]).catch((error: unknown) => error);
      expect(outcome, body).to.be.instanceOf(MalformedInput);
      expect((outcome as Error).message).to.match(/no "items" array/);
    }
    // An empty items array is a document with nothing to load, not a malformed one.
    expect(await itemsFromStdin([Buffer.from('{\n"items": []\n}')])).to.deep.equal([]);
  });

  it('reads a one-line items document with other fields as that document, not as one NDJSON record', async function () {
    const items = await itemsFromStdin([Buffer.from('{"items": [{"title": "a", "date": "2020-01-01"}, {"title": "b", "date": "2020-01-02"}], "total": 2}\n')]);
    expect(items.map((item) => (item.value as { title: string }).title)).to.deep.equal(['a', 'b']);
  });

  it('reads NDJSON whose first record has an items field as NDJSON', async function () {
    const items = await itemsFromStdin([Buffer.from('{"title": "a", "date": "2020-01-01", "items": [1]}\n{"title": "b", "date": "2020-01-02"}\n')]);
    expect(items.map((item) => (item.value as { title: string }).title)).to.deep.equal(['a', 'b']);
  });

  it('says to name the format when a first line past 1 MiB made NDJSON look like a malformed document (it only said "malformed JSON at line 2")', async function () {
    const long = JSON.stringify({ title: 'a'.repeat(1_500_000), date: '2020-01-01' });
    const ndjson = `${long}\n{"title": "b", "date": "2020-01-02"}\n`;
    // In pipe-sized chunks, as standard input arrives.
    const bytes = Buffer.from(ndjson);
    const chunks = Array.from({ length: Math.ceil(bytes.length / 65_536) }, (_, index) => bytes.subarray(index * 65_536, (index + 1) * 65_536));
    const fromStdin = await itemsFromStdin(chunks).catch((error: unknown) => error);
    expect(fromStdin).to.be.instanceOf(MalformedInput);
    expect((fromStdin as Error).message).to.contain('longer than 1 MiB').and.to.contain('--format ndjson');
    const dir = mkdtempSync(join(tmpdir(), 'loader-input-'));
    try {
      const file = join(dir, 'long.ndjson');
      writeFileSync(file, ndjson);
      const fromFile = await prepareFile(file).catch((error: unknown) => error);
      expect(fromFile).to.be.instanceOf(MalformedInput);
      expect((fromFile as Error).message).to.contain('malformed JSON at line 2').and.to.contain('--format ndjson');
      expect((await prepareFile(file, 'ndjson')).records).to.equal(2);
      // A one-line document that long is still read as the document it is.
      const document = join(dir, 'long.json');
      writeFileSync(document, `{"items": [${long}, {"title": "b", "date": "2020-01-02"}]}`);
      expect((await prepareFile(document)).records).to.equal(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('splits NDJSON at \\n only, as the service does, dropping one \\r before it (a lone \\r split a record, and line numbers moved past a \\r\\r\\n)', async function () {
    const body = Buffer.from('{"title": "a", "date": "2020-01-01"}\r\n{"date": "2020-01-02",\r"title": "b"}\r\r\n{"title": "c", "date": "2020-01-03"}\nnot json\n');
    for (let cut = 1; cut < body.length; cut += 1) {
      const outcome = await itemsFromStdin([body.subarray(0, cut), body.subarray(cut)]).catch((error: unknown) => error);
      expect(outcome, `cut at ${cut}`).to.be.instanceOf(MalformedInput);
      expect((outcome as Error).message, `cut at ${cut}`).to.match(/line 4 is not JSON/);
    }
    const valid = body.subarray(0, body.indexOf('not json'));
    for (let cut = 1; cut < valid.length; cut += 1) {
      const items = await itemsFromStdin([valid.subarray(0, cut), valid.subarray(cut)]);
      expect(items.map((item) => [item.line, (item.value as { title: string }).title]), `cut at ${cut}`).to.deep.equal([[1, 'a'], [2, 'b'], [3, 'c']]);
    }
  });

  it('reads NDJSON that starts with a byte-order mark', async function () {
    const items = await itemsFromStdin([Buffer.from('\uFEFF{"title": "a", "date": "2020-01-01"}\n{"title": "b", "date": "2020-01-02"}\n')]);
    expect(items.map((item) => (item.value as { title: string }).title)).to.deep.equal(['a', 'b']);
  });
});
