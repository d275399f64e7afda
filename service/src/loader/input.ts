import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { pipeline, Readable } from 'node:stream';
import { parser } from 'stream-json';
import { verifyFile } from 'stream-json/file/verifier.js';
import { pick } from 'stream-json/filters/pick.js';
import { streamArray } from 'stream-json/streamers/stream-array.js';

/**
 * What `records load` reads, in constant memory: `{"items": [...]}`, a JSON array, or NDJSON, from
 * a file or standard input. A file is read twice: once to check it and take its digest (the
 * Idempotency-Keys derive from it), then to send it.
 */

export type Format = 'items' | 'array' | 'ndjson';
/** One item of the input: its place (record number from 1, and its line in NDJSON) and its value. */
export type InputItem = { record: number; line: number | null; value: unknown };

/** The input is not JSON where it must be: the message names the line or byte offset. */
export class MalformedInput extends Error {}

export type Source = {
  /** '-' for standard input. */
  path: string;
  format: Format;
  /** sha256 of the whole file; null for standard input, which cannot be read twice. */
  digest: string | null;
  /** Records in the file (for progress); null for standard input. */
  records: number | null;
};

const NEWLINE = 0x0a;
/** How much of the input may be read to find the end of its first line. */
const SNIFF_BYTES = 1024 * 1024;

/** The format, from the first line: `[` is an array; an object on one line is NDJSON unless it is the items document. */
function formatOf(head: string): Format {
  const text = head.trimStart();
  if (text.startsWith('[')) return 'array';
  const firstLine = text.split('\n', 1)[0] ?? '';
  try {
    const first = JSON.parse(firstLine) as unknown;
    const isDocument = typeof first === 'object' && first !== null && !Array.isArray(first) && Object.keys(first).length === 1 && 'items' in first;
    return isDocument ? 'items' : 'ndjson';
  } catch {
    return 'items'; // a document spread over lines: `{` then `"items": [` ...
  }
}

/**
 * The input's start, up to its first line's end: a slow producer's first chunk may hold half an
 * NDJSON line, which alone looks like the start of a document. A first line past SNIFF_BYTES is no
 * NDJSON line. The chunks read are returned whole; `chunks` goes on after them.
 */
async function headOf(chunks: AsyncIterator<Buffer | string>): Promise<Buffer> {
  const read: Buffer[] = [];
  let size = 0;
  while (size < SNIFF_BYTES) {
    const next = await chunks.next();
    if (next.done) break;
    const chunk = Buffer.from(next.value);
    read.push(chunk);
    size += chunk.length;
    if (chunk.includes(NEWLINE)) break;
  }
  return Buffer.concat(read, size);
}

async function fileHead(path: string): Promise<Buffer> {
  const chunks = createReadStream(path, { start: 0, end: SNIFF_BYTES - 1 })[Symbol.asyncIterator]();
  try {
    return await headOf(chunks);
  } finally {
    await chunks.return?.(); // closes the file
  }
}

/** Checks a file and takes its digest, before anything is sent. */
export async function prepareFile(path: string, forced?: Format): Promise<Source> {
  if (!statSync(path).isFile()) throw new MalformedInput(`${path} is not a file`);
  const format = forced ?? formatOf((await fileHead(path)).toString('utf8'));
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  if (format !== 'ndjson') {
    await verifyFile(path).catch((error: { line?: number; pos?: number; offset?: number }) => {
      throw new MalformedInput(`${path}: malformed JSON at line ${error.line}, column ${error.pos} (byte ${error.offset})`);
    });
  }
  // Counting reads every item once: an NDJSON line that is not JSON fails here, naming its line.
  const source: Source = { path, format, digest: hash.digest('hex'), records: null };
  let records = 0;
  try {
    for await (const item of itemsOf(source)) records = item.record;
  } catch (error) {
    if (error instanceof MalformedInput) throw new MalformedInput(`${path}: ${error.message}`);
    throw error;
  }
  return { ...source, records };
}

async function* ndjsonItems(input: Readable): AsyncGenerator<InputItem> {
  let line = 0;
  let record = 0;
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    line += 1;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new MalformedInput(`line ${line} is not JSON`);
    }
    record += 1;
    yield { record, line, value };
  }
}

async function* documentItems(input: Readable, format: 'items' | 'array'): AsyncGenerator<InputItem> {
  // pipeline, not pipe: a stage's error (malformed JSON) reaches the last stream, read below;
  // with pipe it was an unhandled 'error' event that ended the process.
  const stages = format === 'items' ? [parser.asStream(), pick.asStream({ filter: 'items' })] : [parser.asStream()];
  const items = pipeline([input, ...stages, streamArray.asStream()], () => {}) as unknown as AsyncIterable<{ key: number; value: unknown }>;
  try {
    for await (const { key, value } of items) yield { record: key + 1, line: null, value };
  } catch (error) {
    throw new MalformedInput(`malformed JSON: ${(error as Error).message}`);
  }
}

/** The items of the input, in order. For standard input, `head` is what was read to learn the format. */
export function itemsOf(source: Source, stdin?: { head: Buffer; rest: Readable }): AsyncGenerator<InputItem> {
  const input =
    source.path === '-' && stdin
      ? Readable.from((async function* () {
          yield stdin.head;
          yield* stdin.rest;
        })())
      : createReadStream(source.path);
  return source.format === 'ndjson' ? ndjsonItems(input) : documentItems(input, source.format);
}

/**
 * Standard input: the format from its first line, whose chunks are then sent as read by `itemsOf`
 * (as bytes: decoding them could cut a character at a chunk's end in two).
 */
export async function prepareStdin(stdin: Readable, forced?: Format): Promise<{ source: Source; stdin: { head: Buffer; rest: Readable } }> {
  const iterator = stdin[Symbol.asyncIterator]();
  const head = await headOf(iterator);
  const rest = Readable.from({ [Symbol.asyncIterator]: () => iterator });
  return { source: { path: '-', format: forced ?? formatOf(head.toString('utf8')), digest: null, records: null }, stdin: { head, rest } };
}
