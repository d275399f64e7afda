import { generateRecords } from '../generate-records.js';
import { SETTINGS } from './settings.js';

/** make bench's inputs, the same for the service and each baseline; `serviceUrl` is the uncached service's. */
export function benchInputs(serviceUrl: string) {
  const idPathsUpTo = (count: number) => Array.from({ length: 2000 }, (_, i) => `/v1/${1 + ((i * 7919) % count)}`);
  const sampleTitles = [...generateRecords(5000, 42, 0)].map((record) => record.title ?? '');
  const terms = [...new Set(sampleTitles.map((title) => /no\. (\d{5})/.exec(title)?.[1]).filter(Boolean) as string[])].slice(0, SETTINGS.searchSamples);
  const months = Array.from({ length: 60 }, (_, i) => [Date.UTC(1985 + Math.floor(i / 12) * 7, i % 12, 1), Date.UTC(1985 + Math.floor(i / 12) * 7, (i % 12) + 1, 1)] as const);
  const iso = (ms: number) => new Date(ms).toISOString();
  const fetchBody = (url: string) => fetch(url).then((r) => r.arrayBuffer());

  const batches = Array.from({ length: 40 }, (_, b) => [...generateRecords(1000, 1000 + b, 0)]);
  const bodies = batches.map((items) => JSON.stringify({ items }));
  const postBatch = (batch: number, url = serviceUrl) =>
    fetch(`${url}/v1/bulk`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bodies[batch % bodies.length] }).then((r) => r.arrayBuffer());
  const timeRange = (range: string) => fetchBody(`${serviceUrl}/v1/?${range}`);
  const ranges = months.map(([after, before]) => `after=${iso(after)}&before=${iso(before)}`);
  return { idPathsUpTo, terms, months, fetchBody, batches, postBatch, timeRange, ranges };
}

export type BenchInputs = ReturnType<typeof benchInputs>;
