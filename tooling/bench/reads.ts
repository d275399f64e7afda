import type { Pool } from 'mysql2/promise';
import { latencies, load, median, medianFigure, pacedReader, pacedWriter, type Figure } from './harness.js';
import type { BenchInputs } from './inputs.js';
import { judge, SCENARIOS, type Row } from './report.js';
import { SETTINGS } from './settings.js';

/** The read scenarios of make bench, each against its baseline in the same rounds: figures, then rows. */

const { seconds: SECONDS, rounds: ROUNDS, scanSamples: SCAN_SAMPLES } = SETTINGS;

type Server = { url: string };
type Rounds = Record<string, { service: Figure[]; baseline: Figure[] }>;

/** Each scenario's figures, round after round, in the order the scenarios were first measured. */
export function figureRounds() {
  const rounds: Rounds = {};
  const add = (name: string, service: Figure, baseline: Figure) => {
    rounds[name] ??= { service: [], baseline: [] };
    rounds[name].service.push(service);
    rounds[name].baseline.push(baseline);
  };
  return { rounds, add };
}

type Add = ReturnType<typeof figureRounds>['add'];

/** ROUNDS interleaved rounds of reads: by id cached and not, traced and not, contains and range searches. */
export async function readRounds(add: Add, servers: Record<'cached' | 'uncached' | 'preloaded' | 'untraced' | 'traced' | 'rawRedis' | 'rawMysql' | 'koaRedis' | 'koaMysql', Server>, inputs: BenchInputs, pool: Pool, idPaths: string[]): Promise<void> {
  const { cached, uncached, preloaded, untraced, traced, rawRedis, rawMysql, koaRedis, koaMysql } = servers;
  const { terms, ranges, months, timeRange, fetchBody } = inputs;
  for (let round = 1; round <= ROUNDS; round += 1) {
    console.log(`reads, round ${round}/${ROUNDS}`);
    const cacheHit = await load(cached.url, idPaths);
    const [nodeRedis, bareKoaRedis] = [await load(rawRedis.url, idPaths), await load(koaRedis.url, idPaths)];
    add(SCENARIOS.cacheHit, cacheHit, nodeRedis);
    add(SCENARIOS.cacheHitKoa, cacheHit, bareKoaRedis);
    add(SCENARIOS.koaFloorRedis, bareKoaRedis, nodeRedis);
    const byId = await load(uncached.url, idPaths);
    const [nodeMysql, bareKoaMysql] = [await load(rawMysql.url, idPaths), await load(koaMysql.url, idPaths)];
    add(SCENARIOS.byId, byId, nodeMysql);
    add(SCENARIOS.byIdKoa, byId, bareKoaMysql);
    add(SCENARIOS.koaFloorMysql, bareKoaMysql, nodeMysql);
    // A B B A: back-to-back runs favour whichever goes second (warmer caches, a quieter machine),
    // so each side runs once before and once after the other.
    const [offFirst, untracedFirst, untracedSecond, offSecond] = [await load(preloaded.url, idPaths), await load(untraced.url, idPaths), await load(untraced.url, idPaths), await load(preloaded.url, idPaths)];
    add(SCENARIOS.tracingOff, meanFigure(offFirst, offSecond), meanFigure(untracedFirst, untracedSecond));
    add(SCENARIOS.tracingOn, await load(traced.url, idPaths), byId);
    add(
      SCENARIOS.contains,
      await latencies(terms, (term) => fetchBody(`${uncached.url}/v1/?contains=${term}`)),
      await latencies(terms.slice((round - 1) * SCAN_SAMPLES).slice(0, SCAN_SAMPLES), (term) =>
        pool.query("select id, title, uri, date_ms, date_raw from records where title_folded like ? escape '!' order by date_ms, id limit 101", [`%${term}%`]),
      ),
    );
    add(
      SCENARIOS.range,
      await latencies(ranges, timeRange),
      await latencies(
        months.map(([after, before]) => `${after}/${before}`),
        (range) => fetchBody(`${rawMysql.url}/range/${range}`),
      ),
    );
  }
}

/**
 * Reads at a fixed rate (a quarter of the service's by-id maximum), at idle and next to a bulk
 * load paced at half the service's bulk rate. Fixed-rate reads, timed from when each was due
 * (harness.ts pacedReads, in a process of their own), make p99 comparable. The two
 * designs of issue #34 side by side, in the same rounds: the service as shipped (writes prepared
 * on worker threads), the same with WRITE_WORKERS=0 (prepared on the event loop), and the load
 * sent to a separate process, as a writer Deployment behind Kong would take it. Returns the note
 * that says so.
 */
export async function readsDuringLoad(add: Add, rounds: Rounds, servers: Record<'uncached' | 'inline' | 'rawMysql', Server>, idPaths: string[], serviceRate: number, postBatch: BenchInputs['postBatch']): Promise<string> {
  const { uncached, inline, rawMysql } = servers;
  const readRate = Math.round(median((rounds[SCENARIOS.byId]?.service ?? []).map((figure) => figure.rps)) / 4);
  const reader = (server: Server) => pacedReader(server.url, idPaths, readRate);
  const reads = async (server: Server) => (await reader(server)).run();
  const halfSpeedLoad = (writer: Server) => pacedWriter(SECONDS * 1000, serviceRate / 2, (batch) => postBatch(batch, writer.url));
  /** Reads from `server` while the load goes to `writer`: both start once the reader's process is up. */
  const readsNextTo = async (server: Server, writer: Server) => {
    const started = await reader(server);
    return Promise.all([started.run(), halfSpeedLoad(writer)]);
  };
  const writeRates: number[] = [];
  const rawDuringLoad: Array<{ idle: number; busy: number }> = [];
  for (let round = 1; round <= ROUNDS; round += 1) {
    console.log(`reads during a bulk load, round ${round}/${ROUNDS}`);
    const idle = await reads(uncached);
    const [busy, writeRate] = await readsNextTo(uncached, uncached);
    writeRates.push(writeRate);
    add(SCENARIOS.duringLoad, busy, idle);
    const inlineIdle = await reads(inline);
    const [inlineBusy] = await readsNextTo(inline, inline);
    add(SCENARIOS.duringLoadInline, inlineBusy, inlineIdle);
    const [besideWriter] = await readsNextTo(uncached, inline);
    add(SCENARIOS.duringLoadWriter, besideWriter, idle);
    // Context, not a goal: the bare server's reads next to the same load show what the database
    // and the shared cores cost, apart from anything the service's event loop adds.
    const rawIdle = await reads(rawMysql);
    const [rawBusy] = await readsNextTo(rawMysql, uncached);
    rawDuringLoad.push({ idle: rawIdle.p99, busy: rawBusy.p99 });
  }
  const rawIdleP99 = median(rawDuringLoad.map((r) => r.idle));
  const rawBusyP99 = median(rawDuringLoad.map((r) => r.busy));
  return `Reads during a bulk load: GET /v1/:id from the database at ${readRate} req/s (a quarter of its maximum) while bulk JSON requests are paced at ${Math.round(serviceRate / 2)} rows/s (reached ${Math.round(median(writeRates))} rows/s), against the same reads at idle. For comparison, the bare node:http + mysql2 server's reads at the same rate had p99 ${rawIdleP99.toFixed(1)} ms at idle and ${rawBusyP99.toFixed(1)} ms during the same load (${(rawBusyP99 / rawIdleP99).toFixed(2)}x).`;
}

/** The mean of two runs of one scenario. */
function meanFigure(a: Figure, b: Figure): Figure {
  return { rps: Math.round((a.rps + b.rps) / 2), p50: (a.p50 + b.p50) / 2, p99: (a.p99 + b.p99) / 2 };
}

/** A row per read scenario: the medians of its rounds, judged against its goal. */
export function roundRows(rounds: Rounds): Row[] {
  const rows: Row[] = [];
  for (const [name, figures] of Object.entries(rounds)) {
    const service = medianFigure(figures.service);
    const baseline = medianFigure(figures.baseline);
    rows.push({ scenario: name, service, baseline, ...judge(name, service, baseline) });
  }
  return rows;
}
