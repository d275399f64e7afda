import type { Pool } from 'mysql2/promise';
import { setTimeout as sleep } from 'node:timers/promises';
import { alternating, latencies, load, median, pacedBatches, pacedReader, pacedWriter, type Figure } from './harness.js';
import type { BenchInputs } from './inputs.js';
import { judgeRounds, SCENARIOS, type Row } from './report.js';
import { SETTINGS } from './settings.js';
import { scalar } from './table-sizes.js';

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

/**
 * ROUNDS interleaved rounds of reads: by id cached and not, traced and not, contains and range
 * searches. Every server is warmed up first, unmeasured (a fresh process's first requests compile
 * its code; the cached service's fill the cache the Redis baselines read).
 */
export async function readRounds(add: Add, servers: Record<'cached' | 'uncached' | 'preloaded' | 'untraced' | 'traced' | 'rawRedis' | 'rawMysql' | 'koaRedis' | 'koaMysql', Server>, inputs: BenchInputs, pool: Pool, idPaths: string[]): Promise<void> {
  const { cached, uncached, preloaded, untraced, traced, rawRedis, rawMysql, koaRedis, koaMysql } = servers;
  const { terms, ranges, months, timeRange, fetchBody } = inputs;
  console.log('warming up every server...');
  for (const server of [cached, rawRedis, koaRedis, uncached, rawMysql, koaMysql, preloaded, untraced, traced]) await load(server.url, idPaths, 2);
  const contains = () => latencies(terms, (term) => fetchBody(`${uncached.url}/v1/?contains=${term}`));
  await contains(); // right after a load the index's pages are cold
  for (let round = 1; round <= ROUNDS; round += 1) {
    console.log(`reads, round ${round}/${ROUNDS}`);
    const [cacheHit, nodeRedis, bareKoaRedis] = await alternating(round, [() => load(cached.url, idPaths), () => load(rawRedis.url, idPaths), () => load(koaRedis.url, idPaths)]);
    add(SCENARIOS.cacheHit, cacheHit, nodeRedis);
    add(SCENARIOS.cacheHitKoa, cacheHit, bareKoaRedis);
    add(SCENARIOS.koaFloorRedis, bareKoaRedis, nodeRedis);
    const [byId, nodeMysql, bareKoaMysql] = await alternating(round, [() => load(uncached.url, idPaths), () => load(rawMysql.url, idPaths), () => load(koaMysql.url, idPaths)]);
    add(SCENARIOS.byId, byId, nodeMysql);
    add(SCENARIOS.byIdKoa, byId, bareKoaMysql);
    add(SCENARIOS.koaFloorMysql, bareKoaMysql, nodeMysql);
    // A B C C B A over three processes with the same history (none served the load): each side's
    // two runs centre on the same moment.
    const [offFirst, untracedFirst, tracedFirst, tracedSecond, untracedSecond, offSecond] = [
      await load(preloaded.url, idPaths),
      await load(untraced.url, idPaths),
      await load(traced.url, idPaths),
      await load(traced.url, idPaths),
      await load(untraced.url, idPaths),
      await load(preloaded.url, idPaths),
    ];
    const off = meanFigure(offFirst, offSecond);
    add(SCENARIOS.tracingOff, off, meanFigure(untracedFirst, untracedSecond));
    add(SCENARIOS.tracingOn, meanFigure(tracedFirst, tracedSecond), off);
    const likeScans = terms.slice((round - 1) * SCAN_SAMPLES).slice(0, SCAN_SAMPLES);
    const [indexed, scanned] = await alternating(round, [
      contains,
      () => latencies(likeScans, (term) => pool.query("select id, title, uri, date_ms, date_raw from records where title_folded like ? escape '!' order by date_ms, id limit 101", [`%${term}%`])),
    ]);
    add(SCENARIOS.contains, indexed, scanned);
    const [service, raw] = await alternating(round, [
      () => latencies(ranges, timeRange),
      () => latencies(months.map(([after, before]) => `${after}/${before}`), (range) => fetchBody(`${rawMysql.url}/range/${range}`)),
    ]);
    add(SCENARIOS.range, service, raw);
  }
}

/**
 * Waits, up to 30 s, until InnoDB has written out what the last load left in its buffer pool
 * (under 1,000 dirty pages): reads beside a flush are not reads at idle. The dirty pages left.
 */
async function settled(pool: Pool): Promise<number> {
  const dirty = () => scalar(pool, "select variable_value from information_schema.global_status where variable_name = 'INNODB_BUFFER_POOL_PAGES_DIRTY'");
  const until = Date.now() + 30_000;
  while ((await dirty()) >= 1000 && Date.now() < until) await sleep(500);
  return dirty();
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
export async function readsDuringLoad(add: Add, rounds: Rounds, servers: Record<'uncached' | 'inline' | 'rawMysql', Server>, idPaths: string[], serviceRate: number, serviceBatches: BenchInputs['serviceBatches'], pool: Pool): Promise<string> {
  const { uncached, inline, rawMysql } = servers;
  const readRate = Math.round(median((rounds[SCENARIOS.byId]?.service ?? []).map((figure) => figure.rps)) / 4);
  const reader = (server: Server) => pacedReader(server.url, idPaths, readRate);
  const dirtyAtIdle: number[] = [];
  /** Reads at idle: once the last load's pages are written out. */
  const reads = async (server: Server) => {
    dirtyAtIdle.push(await settled(pool));
    return (await reader(server)).run();
  };
  const pacedRate = serviceRate / 2;
  /** Reads from `server` while the load goes to `writer`: both start once the reader's process is up. */
  const readsNextTo = async (server: Server, writer: Server) => {
    const batches = serviceBatches(pacedBatches(SECONDS * 1000, pacedRate), writer.url);
    const started = await reader(server);
    return Promise.all([started.run(), pacedWriter(SECONDS * 1000, pacedRate, batches)]);
  };
  const reachedRates: number[] = [];
  const rawDuringLoad: Array<{ idle: number; busy: number }> = [];
  for (let round = 1; round <= ROUNDS; round += 1) {
    console.log(`reads during a bulk load, round ${round}/${ROUNDS}`);
    const idle = await reads(uncached);
    const [busy, reached] = await readsNextTo(uncached, uncached);
    reachedRates.push(reached);
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
  return `Reads during a bulk load: GET /v1/:id from the database at ${readRate} req/s (a quarter of its maximum) while bulk JSON requests are paced at ${Math.round(pacedRate)} rows/s (reached ${Math.round(median(reachedRates))} rows/s), against the same reads at idle. For comparison, the bare node:http + mysql2 server's reads at the same rate had p99 ${rawIdleP99.toFixed(1)} ms at idle and ${rawBusyP99.toFixed(1)} ms during the same load (${(rawBusyP99 / rawIdleP99).toFixed(2)}x). Each idle run started once InnoDB had written out the previous load's pages (at most ${Math.max(...dirtyAtIdle)} dirty pages left, after waiting up to 30 s).`;
}

/** The mean of two runs of one scenario. */
function meanFigure(a: Figure, b: Figure): Figure {
  return { rps: Math.round((a.rps + b.rps) / 2), p50: (a.p50 + b.p50) / 2, p99: (a.p99 + b.p99) / 2 };
}

/** A row per read scenario: the median of its rounds' ratios, judged against its goal. */
export const roundRows = (rounds: Rounds): Row[] => Object.entries(rounds).map(([name, figures]) => judgeRounds(name, figures));
