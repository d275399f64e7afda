import { expect } from 'chai';
import { Readable } from 'node:stream';
import { itemsOf, MalformedInput, prepareStdin, type InputItem } from '../../../service/src/loader/input.js';

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
});
