import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { accessSync, constants, createReadStream, statSync, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline, Readable, Transform } from 'node:stream';
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
  /** The file as its digest was taken; null for standard input. */
  version: FileVersion | null;
};

/** What changes whenever a file is written or replaced, read without reading the file. */
type FileVersion = { dev: number; ino: number; size: number; mtimeMs: number };

const versionOf = ({ dev, ino, size, mtimeMs }: FileVersion): FileVersion => ({ dev, ino, size, mtimeMs });
const sameVersion = (a: FileVersion, b: FileVersion) => a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;

/**
 * Whether the file was written or replaced since its digest was taken: its chunks' keys name that
 * digest, so what it says now must not be sent under them.
 */
export async function changedSince(source: Source): Promise<boolean> {
  if (source.version === null) return false;
  const now = await stat(source.path).catch(() => null);
  return now === null || !sameVersion(versionOf(now), source.version);
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
/** How much of the input may be read to find the end of its first line. */
const SNIFF_BYTES = 1024 * 1024;
/** Whether the first line went on past SNIFF_BYTES: the format was then guessed from part of it. */
const cutShort = (head: Buffer): boolean => head.length >= SNIFF_BYTES && !head.includes(NEWLINE);
/** Said with a JSON error when the format was guessed from part of the first line (NDJSON of long records looked malformed). */
const CUT_SHORT_HINT = `; its first line is longer than ${SNIFF_BYTES / 1024 / 1024} MiB, so it was read as one JSON document: if it is NDJSON, say so with --format ndjson`;
/** An NDJSON line longer than this holds no record (one is at most a few dozen KiB): refused before it fills memory. */
const MAX_NDJSON_LINE_BYTES = 16 * 1024 * 1024;

/** Bytes at the end of `bytes` that begin a UTF-8 sequence the next chunk completes. */
function unfinishedTail(bytes: Buffer): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back += 1) {
    const byte = bytes[bytes.length - back] as number;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return length > back ? back : 0;
  }
  return 0;
}

/** Whether `bytes` holds an invalid UTF-8 sequence (an unfinished one at the end is not). */
const invalidUtf8 = (bytes: Buffer): boolean => {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: true });
    return false;
  } catch {
    return true;
  }
};

/** The line (counted from `firstLine`) of the first invalid sequence in `bytes`: only once one is known to be there. */
function lineOfInvalid(bytes: Buffer, firstLine: number): number {
  // The shortest prefix holding the bad sequence: the newlines before it name its line.
  let low = 1;
  let high = bytes.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (invalidUtf8(bytes.subarray(0, middle))) high = middle;
    else low = middle + 1;
  }
  let line = firstLine;
  for (let at = bytes.indexOf(NEWLINE); at !== -1 && at < low - 1; at = bytes.indexOf(NEWLINE, at + 1)) line += 1;
  return line;
}

/**
 * Passes the input's bytes on unchanged, failing at the first that is not UTF-8, or (NDJSON) at a
 * line past MAX_NDJSON_LINE_BYTES, naming the line. Decoders downstream would put U+FFFD in place
 * of bad bytes, and the items are sent re-encoded, so the service could not see them. Every byte
 * of a file passes here twice (counting, then sending): `isUtf8` checks without decoding, and
 * lines are found with indexOf.
 */
function checkedBytes(ndjson: boolean): Transform {
  let line = 1;
  let lineBytes = 0;
  let carry = Buffer.alloc(0);
  const tooLong = () => new MalformedInput(`line ${line} is longer than ${MAX_NDJSON_LINE_BYTES / 1024 / 1024} MiB; no record is`);
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const bytes = carry.length === 0 ? chunk : Buffer.concat([carry, chunk]);
      const complete = bytes.length - unfinishedTail(bytes);
      if (!isUtf8(bytes.subarray(0, complete))) return done(new MalformedInput(`line ${lineOfInvalid(bytes, line)} is not valid UTF-8`));
      let from = 0;
      for (let next = chunk.indexOf(NEWLINE); next !== -1; next = chunk.indexOf(NEWLINE, from)) {
        if (ndjson && lineBytes + next - from > MAX_NDJSON_LINE_BYTES) return done(tooLong());
        line += 1;
        lineBytes = 0;
        from = next + 1;
      }
      lineBytes += chunk.length - from;
      if (ndjson && lineBytes > MAX_NDJSON_LINE_BYTES) return done(tooLong());
      carry = Buffer.from(bytes.subarray(complete));
      done(null, chunk);
    },
    flush(done) {
      done(carry.length > 0 ? new MalformedInput(`line ${line} is not valid UTF-8 (it ends inside a character)`) : null);
    },
  });
}

/** The format, from the first line: `[` is an array; an object on one line is NDJSON unless it is an items document. */
function formatOf(head: string): Format {
  const text = head.trimStart(); // a byte-order mark too
  if (text.startsWith('[')) return 'array';
  const firstLine = text.split('\n', 1)[0] ?? '';
  try {
    const first = JSON.parse(firstLine) as unknown;
    // An items array, and none of a record's fields: an NDJSON record may carry an `items` field too.
    const isDocument = typeof first === 'object' && first !== null && Array.isArray((first as { items?: unknown }).items) && !['title', 'uri', 'date'].some((field) => field in first);
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

/** The input file, or MalformedInput naming why it cannot be read (the command asks first, before taking its lock). */
export function inputFile(path: string): Stats {
  let file: Stats;
  try {
    file = statSync(path);
    accessSync(path, constants.R_OK);
  } catch (error) {
    throw new MalformedInput(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (!file.isFile()) throw new MalformedInput(`${path} is not a file`);
  return file;
}

/** Checks a file and takes its digest, before anything is sent. */
export async function prepareFile(path: string, forced?: Format): Promise<Source> {
  const file = inputFile(path);
  const head = forced ? null : await fileHead(path);
  const format = forced ?? formatOf((head as Buffer).toString('utf8'));
  const hint = head !== null && cutShort(head) ? CUT_SHORT_HINT : '';
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  if (format !== 'ndjson') {
    await verifyFile(path).catch((error: { line?: number; pos?: number; offset?: number }) => {
      throw new MalformedInput(`${path}: malformed JSON at line ${error.line}, column ${error.pos} (byte ${error.offset})${hint}`);
    });
  }
  // Counting reads every item once: an NDJSON line that is not JSON fails here, naming its line.
  const source: Source = { path, format, digest: hash.digest('hex'), records: null, version: versionOf(file) };
  let records = 0;
  try {
    for await (const item of itemsOf(source)) records = item.record;
  } catch (error) {
    if (error instanceof MalformedInput) throw new MalformedInput(`${path}: ${error.message}${hint}`);
    throw error;
  }
  if (await changedSince(source)) throw new MalformedInput(`${path} changed while it was being checked; run again once nothing writes to it`);
  return { ...source, records };
}

/**
 * The lines of the input, split at \n only, as the service splits a stream (readline also split at
 * a lone \r, which JSON allows between tokens, so a valid file was refused and line numbers moved);
 * one \r before the \n is dropped.
 */
async function* linesOf(input: AsyncIterable<Buffer>): AsyncGenerator<string> {
  let pieces: Buffer[] = [];
  const text = (bytes: Buffer) => (bytes.at(-1) === CARRIAGE_RETURN ? bytes.subarray(0, -1) : bytes).toString('utf8');
  for await (const chunk of input) {
    let from = 0;
    for (let at = chunk.indexOf(NEWLINE); at !== -1; at = chunk.indexOf(NEWLINE, from)) {
      const end = chunk.subarray(from, at);
      yield text(pieces.length === 0 ? end : Buffer.concat([...pieces, end]));
      pieces = [];
      from = at + 1;
    }
    if (from < chunk.length) pieces.push(chunk.subarray(from));
  }
  if (pieces.length > 0) yield text(Buffer.concat(pieces));
}

async function* ndjsonItems(input: Readable): AsyncGenerator<InputItem> {
  let line = 0;
  let record = 0;
  const checked = pipeline(input, checkedBytes(true), () => {});
  for await (const read of linesOf(checked)) {
    line += 1;
    const text = line === 1 && read.startsWith('\uFEFF') ? read.slice(1) : read;
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
  let picked = false;
  // pick passes nothing on when there is no `items`: without this, such a document loaded nothing, successfully.
  const seen = new Transform({
    objectMode: true,
    transform(token, _encoding, done) {
      picked = true;
      done(null, token);
    },
  });
  const stages = format === 'items' ? [parser.asStream(), pick.asStream({ filter: 'items' }), seen] : [parser.asStream()];
  const items = pipeline([input, checkedBytes(false), ...stages, streamArray.asStream()], () => {}) as unknown as AsyncIterable<{ key: number; value: unknown }>;
  try {
    for await (const { key, value } of items) yield { record: key + 1, line: null, value };
  } catch (error) {
    if (error instanceof MalformedInput) throw error;
    throw new MalformedInput(`malformed JSON: ${(error as Error).message}`);
  }
  if (format === 'items' && !picked) throw new MalformedInput('no "items" array at the top of the document');
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
  if (source.format === 'ndjson') return ndjsonItems(input);
  const items = documentItems(input, source.format);
  return stdin && cutShort(stdin.head) ? hinted(items) : items;
}

async function* hinted(items: AsyncGenerator<InputItem>): AsyncGenerator<InputItem> {
  try {
    yield* items;
  } catch (error) {
    if (error instanceof MalformedInput) throw new MalformedInput(`${error.message}${CUT_SHORT_HINT}`);
    throw error;
  }
}

/**
 * Standard input: the format from its first line, whose chunks are then sent as read by `itemsOf`
 * (as bytes: decoding them could cut a character at a chunk's end in two).
 */
export async function prepareStdin(stdin: Readable, forced?: Format): Promise<{ source: Source; stdin: { head: Buffer; rest: Readable } }> {
  const iterator = stdin[Symbol.asyncIterator]();
  const head = await headOf(iterator);
  const rest = Readable.from({ [Symbol.asyncIterator]: () => iterator });
  return { source: { path: '-', format: forced ?? formatOf(head.toString('utf8')), digest: null, records: null, version: null }, stdin: { head, rest } };
}
