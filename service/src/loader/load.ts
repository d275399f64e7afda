import { createHash } from 'node:crypto';
import { open, readFile, rm, stat, truncate, type FileHandle } from 'node:fs/promises';
import { z } from 'zod';
import { changedSince, type InputItem, type Source } from './input.js';
import type { Progress } from './progress.js';
import type { LoadSummary, SentChunks } from './summary.js';

/**
 * Sends the items to POST /v1/bulk as NDJSON chunks of a fixed size, one at a time, each with an
 * Idempotency-Key derived from the input and the chunk's position: a re-run after a crash of the
 * loader, the network or the service skips the chunks the service had answered (`resume`, from the
 * load's state file), replays one it may have stored without answering (the service answers it
 * from its idempotency store) and stores the rest, so every record is stored exactly once.
 */

export type LoadOptions = {
  url: string;
  token?: string;
  /** Records per request. The service itemizes at most 100 rejections per request. */
  chunkSize: number;
  /** Where rejected items go, one JSON line each with its reasons. */
  rejectsPath: string;
  /** Attempts per chunk when the service or the network fails (the key makes a retry safe). */
  attempts: number;
  progress: Progress;
  /** Base delay between attempts, doubled each time. */
  retryDelayMs?: number;
  /** The longest an attempt waits for the service's whole answer (120 s); then it is sent again under its key. */
  timeoutMs?: number;
  /** The chunks an earlier run of this load had sent and the service answered: not sent again. */
  resume?: SentChunks | null;
  /** Called once the service has answered each chunk, with every chunk answered so far added up. */
  onSent?: (sent: SentChunks) => Promise<void>;
};

/** The load stopped: the service refused it, or kept failing. Re-running resumes it. */
export class LoadFailed extends Error {}

const count = z.number().int().min(0);
/** What POST /v1/bulk answers an NDJSON stream (StreamResult in service/openapi.yaml), as far as the loader reads it. */
const bulkAnswer = z.object({ inserted: count, rejected: z.array(z.object({ line: count, field: z.string(), message: z.string() })), rejectedCount: count });
type BulkAnswer = z.infer<typeof bulkAnswer>;

/** The answer, or null when the 2xx came from something else (a wrong --url, a login page): no retry would help. */
function bulkAnswerOf(text: string): BulkAnswer | null {
  try {
    const parsed = bulkAnswer.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Failures worth another attempt: the service's own trouble, a key still held by an earlier attempt, the network. */
const RETRYABLE = new Set([408, 409, 429, 500, 502, 503, 504]);
/** The longest a `Retry-After` is waited for (a gateway's hourly quota would otherwise hold the loader silently). */
const MAX_RETRY_AFTER_MS = 15 * 60_000;
/** The longest wait between two attempts of a chunk that the service did not say when to retry. */
const MAX_BACKOFF_MS = 60_000;

/** The wait a 429 or 503 asks for (`Retry-After` in seconds or as a date), in ms; null when none. */
function retryAfterMs(header: string | null, now = Date.now()): number | null {
  if (header === null || header.trim() === '') return null;
  const wait = /^\d+$/.test(header.trim()) ? Number(header) * 1000 : Date.parse(header) - now;
  return Number.isFinite(wait) ? Math.max(0, wait) : null;
}

function keyOf(source: Source, chunkSize: number, index: number, body: string): string {
  // A file's digest names the whole input; standard input has none, so its chunks are named by content.
  const name = source.digest ?? `stdin-${createHash('sha256').update(body).digest('hex')}`;
  return `load-${name.slice(0, 48)}-${chunkSize}-${index}`;
}

/**
 * The rejects file, opened before anything is sent: a path that cannot be written stops the load
 * with nothing stored. A resumed load keeps what its skipped chunks wrote there (`keepBytes`, cut
 * back to it: a chunk the loader had not finished is sent again) and appends. `lost`: that part
 * is no longer there whole (the file moved away or cut); the chunks are skipped all the same.
 */
async function openRejects(path: string, keepBytes: number): Promise<{ file: FileHandle; bytes: number; lost: boolean }> {
  try {
    if (keepBytes === 0) return { file: await open(path, 'w'), bytes: 0, lost: false };
    const size = await stat(path).then((found) => found.size, () => 0);
    // Cut short: its whole lines are kept, a line cut in two is not.
    const kept = size >= keepBytes ? keepBytes : (await readFile(path).catch(() => Buffer.alloc(0))).lastIndexOf(0x0a, size - 1) + 1;
    if (size > 0) await truncate(path, kept);
    return { file: await open(path, 'a'), bytes: kept, lost: size < keepBytes };
  } catch (error) {
    throw new LoadFailed(`cannot write rejected items to ${path}: ${(error as Error).message}`);
  }
}

/** Where chunks go: `/v1/bulk` under the URL's path, since a gateway may serve the API below a prefix (https://host/records/v1/bulk). */
/**
 * The wait after a chunk's `attempt`-th failure: doubling from `firstMs`, at most a minute (without
 * a ceiling the fifteenth wait was over two hours, and a timer past 24 days fires at once), and
 * never sooner than the service asked.
 */
export function retryWaitMs(attempt: number, askedWaitMs: number | null, firstMs = 1000): number {
  return Math.max(Math.min(firstMs * 2 ** (attempt - 1), MAX_BACKOFF_MS), askedWaitMs ?? 0);
}

export function bulkUrlOf(url: string): URL {
  const base = url.replace(/\/v1\/?$/, '/'); // a URL naming the API's /v1 itself
  return new URL('v1/bulk', base.endsWith('/') ? base : `${base}/`);
}

export async function load(source: Source, items: AsyncIterable<InputItem>, options: LoadOptions): Promise<LoadSummary> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const bulkUrl = bulkUrlOf(options.url);
  const resume = options.resume ?? null;
  const { file: rejects, bytes, lost } = await openRejects(options.rejectsPath, resume?.rejectsBytes ?? 0);
  const skipped = resume?.chunks ?? 0;
  // The skipped chunks count as what they were: stored by an earlier run.
  const summary: LoadSummary = { records: 0, skipped: 0, stored: resume?.stored ?? 0, rejected: resume?.rejected ?? 0, chunks: skipped, replayed: skipped };
  let rejectsBytes = bytes;
  const reject = async (entry: object) => {
    const line = `${JSON.stringify(entry)}\n`;
    await rejects.write(line);
    rejectsBytes += Buffer.byteLength(line);
  };
  // Sending them again to list their rejections anew would store them twice once their keys expired.
  if (lost && resume) {
    await reject({ chunks: `1-${skipped}`, rejected: resume.rejected, message: 'rejected by an earlier run of this load, which listed them in this file; that part of it was moved away or cut since' });
  }

  async function send(chunk: InputItem[], index: number): Promise<void> {
    if (await changedSince(source)) {
      throw new LoadFailed(`${source.path} changed during the load, before records ${chunk[0]?.record}-${chunk.at(-1)?.record} were sent; nothing more was sent. Run the same command again with the file as it was when the load began, to finish it`);
    }
    const body = `${chunk.map((item) => JSON.stringify(item.value)).join('\n')}\n`;
    const headers: Record<string, string> = { 'content-type': 'application/x-ndjson', 'idempotency-key': keyOf(source, options.chunkSize, index, body) };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let answer: BulkAnswer | null = null;
    let replayed = false;
    for (let attempt = 1; answer === null; attempt += 1) {
      let failure: string;
      let askedWaitMs: number | null = null;
      try {
        // Without it a connection that went silent (a gateway or node gone without a reset) held
        // the load for undici's 300 s, headers and body each, before the attempt failed.
        const response = await fetch(bulkUrl, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
        const text = await response.text();
        if (response.ok) {
          answer = bulkAnswerOf(text);
          if (answer === null) {
            throw new LoadFailed(`records ${chunk[0]?.record}-${chunk.at(-1)?.record}: ${bulkUrl} answered ${response.status} with what is not an answer of POST /v1/bulk (is --url the records service?): ${text.slice(0, 120)}`);
          }
          // On a later attempt the stored chunk may be this run's own (an answer lost to --timeout).
          replayed = attempt === 1 && response.headers.get('idempotent-replayed') === 'true';
          break;
        }
        const detail = (() => {
          try {
            return (JSON.parse(text) as { detail?: string }).detail ?? text;
          } catch {
            return text;
          }
        })();
        failure = `HTTP ${response.status}: ${detail}`;
        askedWaitMs = retryAfterMs(response.headers.get('retry-after'));
        if (!RETRYABLE.has(response.status)) throw new LoadFailed(`records ${chunk[0]?.record}-${chunk.at(-1)?.record}: the service refused them (${failure})`);
      } catch (error) {
        if (error instanceof LoadFailed) throw error;
        // fetch says "fetch failed"; its cause says why (ECONNREFUSED, a reset, a timeout).
        const cause = (error as { cause?: { message?: string } }).cause;
        failure = (error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : (cause?.message ?? (error as Error).message);
      }
      if (attempt >= options.attempts) {
        throw new LoadFailed(`records ${chunk[0]?.record}-${chunk.at(-1)?.record}: ${failure} after ${attempt} attempts; run the same command again to resume`);
      }
      // The service (or Kong's rate limit) says when to come back: sooner would be refused again.
      if (askedWaitMs !== null && askedWaitMs > MAX_RETRY_AFTER_MS) {
        throw new LoadFailed(`records ${chunk[0]?.record}-${chunk.at(-1)?.record}: ${failure}; the service asks to retry after ${Math.ceil(askedWaitMs / 1000)} s: run the same command again then to resume`);
      }
      const waitMs = retryWaitMs(attempt, askedWaitMs, options.retryDelayMs);
      options.progress.note(`records ${chunk[0]?.record}-${chunk.at(-1)?.record}: ${failure}; retrying in ${Math.ceil(waitMs / 1000)} s`);
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }

    summary.chunks += 1;
    if (replayed) summary.replayed += 1;
    summary.stored += answer.inserted;
    summary.rejected += answer.rejectedCount;
    for (const rejection of answer.rejected) {
      const item = chunk[rejection.line - 1];
      await reject({ record: item?.record, line: item?.line ?? undefined, field: rejection.field, message: rejection.message, item: item?.value });
    }
    const unreported = answer.rejectedCount - answer.rejected.length;
    // Not "use a smaller --chunk-size": the chunk size is part of each chunk's key, so such a run
    // would be a new load and store every valid record of the file a second time.
    if (unreported > 0) await reject({ records: `${chunk[0]?.record}-${chunk.at(-1)?.record}`, unreported, message: 'rejected, reasons not listed: the service itemizes 100 per request (chunks of at most 100 records list every rejection; running again with another --chunk-size would store these records again)' });
    await options.onSent?.({ chunks: index + 1, stored: summary.stored, rejected: summary.rejected, rejectsBytes });
  }

  /** Chunks an earlier run had sent are read again (to count and key what follows), not sent. */
  const sendUnlessSent = async (chunk: InputItem[], index: number) => {
    if (index >= skipped) await send(chunk, index);
    else summary.skipped += chunk.length;
  };

  // Read, not yet answered: a load that stops reports them as not sent.
  let chunk: InputItem[] = [];
  try {
    let index = 0;
    for await (const item of items) {
      summary.records += 1;
      chunk.push(item);
      if (chunk.length === options.chunkSize) {
        await sendUnlessSent(chunk, index++);
        chunk = [];
        options.progress.update(summary);
      }
    }
    if (chunk.length > 0) await sendUnlessSent(chunk, index);
    chunk = [];
    options.progress.update(summary);
    return summary;
  } finally {
    options.progress.done({ ...summary, records: summary.records - chunk.length });
    await rejects.close();
    // No rejections, no file (a re-run keeps what its skipped chunks wrote, and replayed chunks report theirs again).
    if (rejectsBytes === 0) await rm(options.rejectsPath, { force: true });
  }
}
