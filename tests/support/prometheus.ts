import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from './wait.js';

/**
 * The run's one Prometheus (scripts/with-test-servers), scraping every second. A suite lists its
 * targets under its own job label and queries only that job; `stop` removes them.
 */
export type ScrapeJob = {
  /** An instant query; its first series' value, or null when it has none. */
  value(promql: string): Promise<number | null>;
  /** The raw API answer of an instant query. */
  query(promql: string): Promise<{ status: string; error?: string; data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }>;
  /** A range query over [start, end] (seconds) at `step` seconds. */
  range(promql: string, start: number, end: number, step: number): Promise<Array<{ metric: Record<string, string>; values: Array<[number, string]> }>>;
  /** Waits until every target has been scraped after `afterSeconds` (epoch seconds). */
  scrapedAfter(afterSeconds: number): Promise<void>;
  stop(): void;
};

export async function scrape(job: string, targets: string[]): Promise<ScrapeJob> {
  const url = process.env.TEST_PROMETHEUS_URL;
  const dir = process.env.TEST_PROMETHEUS_TARGETS;
  if (!url || !dir) throw new Error('TEST_PROMETHEUS_URL is unset: run the suites through scripts/with-test-servers (make test)');
  const file = join(dir, `${job}.json`);
  writeFileSync(file, JSON.stringify([{ targets, labels: { job } }]));
  const query: ScrapeJob['query'] = async (promql) => (await (await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: promql })}`)).json()) as any;
  const value: ScrapeJob['value'] = async (promql) => {
    const body = await query(promql);
    if (body.status !== 'success') throw new Error(`${promql}: ${body.error}`);
    const first = body.data?.result[0];
    return first ? Number(first.value[1]) : null;
  };
  const scrapedAfter = (afterSeconds: number) =>
    waitFor(`Prometheus to scrape ${job} after ${afterSeconds}`, async () => (await value(`min(timestamp(up{job="${job}"} == 1))`)) !== null && ((await value(`min(timestamp(up{job="${job}"}))`)) ?? 0) > afterSeconds && (await value(`count(up{job="${job}"} == 1)`)) === targets.length, 30_000, 200);
  await scrapedAfter(Date.now() / 1000);
  return {
    value,
    query,
    async range(promql, start, end, step) {
      const params = new URLSearchParams({ query: promql, start: String(start), end: String(end), step: String(step) });
      return ((await (await fetch(`${url}/api/v1/query_range?${params}`)).json()) as any).data.result;
    },
    scrapedAfter,
    stop: () => rmSync(file, { force: true }),
  };
}
