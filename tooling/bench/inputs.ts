import type { BatchWriter } from './harness.js';
import type { RecordStream } from './record-stream.js';
import { SETTINGS } from './settings.js';

/** A response's body, or an error naming its status: a failed request is never a measurement. */
export async function bodyOf(response: Response): Promise<ArrayBuffer> {
  if (!response.ok) throw new Error(`${response.url} answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
  return response.arrayBuffer();
}

/**
 * make bench's inputs, the same for the service and each baseline; `serviceUrl` is the uncached
 * service's. Bulk writes take fresh records from `stream`, the run's one source of records.
 */
export function benchInputs(serviceUrl: string, stream: RecordStream) {
  const idPathsUpTo = (count: number) => Array.from({ length: 2000 }, (_, i) => `/v1/${1 + ((i * 7919) % count)}`);
  // The stream's first records: the terms are in every table the run measures.
  const sampleTitles = [...stream.first(5000)].map((record) => record.title ?? '');
  const terms = [...new Set(sampleTitles.map((title) => /no\. (\d{5})/.exec(title)?.[1]).filter(Boolean) as string[])].slice(0, SETTINGS.searchSamples);
  const months = Array.from({ length: 60 }, (_, i) => [Date.UTC(1985 + Math.floor(i / 12) * 7, i % 12, 1), Date.UTC(1985 + Math.floor(i / 12) * 7, (i % 12) + 1, 1)] as const);
  const iso = (ms: number) => new Date(ms).toISOString();
  const fetchBody = (url: string) => fetch(url).then(bodyOf);

  /**
   * `count` bulk bodies of 1,000 fresh records for the service at `url`, made before the timed run
   * (making them is not timed); `done(written)` gives back the records of the bodies not sent.
   */
  const serviceBatches = (count: number, url = serviceUrl): BatchWriter => {
    const batches = stream.batches(count);
    const bodies = batches.map((items) => JSON.stringify({ items }));
    return {
      count,
      write: (batch) => fetch(`${url}/v1/bulk`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bodies[batch] }).then(bodyOf),
      done: (written) => stream.giveBack(batches.slice(written).flat()),
    };
  };
  const timeRange = (range: string) => fetchBody(`${serviceUrl}/v1/?${range}`);
  const ranges = months.map(([after, before]) => `after=${iso(after)}&before=${iso(before)}`);
  return { idPathsUpTo, terms, months, fetchBody, serviceBatches, timeRange, ranges };
}

export type BenchInputs = ReturnType<typeof benchInputs>;
