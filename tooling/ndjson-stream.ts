import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';

/**
 * POSTs NDJSON text to `${baseUrl}/v1/bulk` as it is produced, without a Content-Length, the way a
 * client streams a load too large to hold in memory. Used by tests and by `make bench`.
 */
export function postNdjsonStream(baseUrl: string, chunks: AsyncIterable<string> | Iterable<string>, query = ''): Promise<Response> {
  return fetch(`${baseUrl}/v1/bulk${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson' },
    body: Readable.toWeb(Readable.from(chunks)) as ReadableStream,
    duplex: 'half',
  } as RequestInit);
}

/** The NDJSON lines of `items`, grouped into chunks of about `chunkBytes`. */
export function* ndjsonChunks(items: Iterable<unknown>, chunkBytes = 64 * 1024): Generator<string> {
  let chunk = '';
  for (const item of items) {
    chunk += `${JSON.stringify(item)}\n`;
    if (chunk.length >= chunkBytes) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk !== '') yield chunk;
}

/** Samples a process's resident set size until stopped; `stop()` returns the peak in bytes. */
export function sampleRss(pid: number, everyMs = 50): { stop(): number } {
  let peak = 0;
  const timer = setInterval(() => {
    let status = '';
    try {
      status = readFileSync(`/proc/${pid}/status`, 'utf8');
    } catch {
      return; // the process has exited
    }
    peak = Math.max(peak, Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024);
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}
