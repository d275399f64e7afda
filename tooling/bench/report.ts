import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { median, medianFigure, type Figure } from './harness.js';
import { SETTINGS } from './settings.js';

/** Judges each scenario against its goal, and writes the results: stdout, bench/results, the README. */

export type Row = {
  scenario: string;
  service: Figure;
  baseline: Figure;
  /** Shown instead of the figures, for rows that are not rates or latencies (sizes, references). */
  serviceText?: string;
  baselineText?: string;
  baselineName: string;
  ratio: number;
  ratioOf: string;
  goal: string;
  /** Whether the goal is met; null for a reference row, which has none. */
  met: boolean | null;
};

export const SCENARIOS = {
  cacheHit: 'GET /v1/:id, cache hit',
  byId: 'GET /v1/:id, from the database',
  cacheHitKoa: 'GET /v1/:id, cache hit, vs Koa\'s floor',
  byIdKoa: 'GET /v1/:id, from the database, vs Koa\'s floor',
  koaFloorRedis: 'reference: bare Koa 3 + @koa/router vs bare node:http, ioredis GET',
  koaFloorMysql: 'reference: bare Koa 3 + @koa/router vs bare node:http, mysql2 execute',
  contains: 'search contains (5-digit term), uncached',
  range: 'search, one-month date range, uncached',
  duringLoad: 'GET /v1/:id during a bulk load at half speed',
  duringLoadInline: 'reference: the same with writes prepared on the event loop (WRITE_WORKERS=0)',
  duringLoadWriter: 'reference: GET /v1/:id while the same load goes to a separate writer process',
  tracingOff: 'GET /v1/:id from the database, tracing module loaded but off',
  tracingOn: 'GET /v1/:id from the database, tracing on (every request sampled)',
} as const;

type Goal = {
  baselineName: string;
  ratioOf: string;
  goal: string;
  /** The ratio of one measurement of the service to its baseline's in the same round. */
  ratio(service: Figure, baseline: Figure): number;
  /** Whether the goal is met; null for a reference row, which has no goal. */
  met(ratio: number, service: Figure): boolean | null;
};

const throughput = (service: Figure, baseline: Figure) => service.rps / baseline.rps;
const p50Latency = (service: Figure, baseline: Figure) => service.p50 / baseline.p50;
const p99Latency = (service: Figure, baseline: Figure) => service.p99 / baseline.p99;
const reference = () => null;

/** Each scenario's baseline, ratio and goal, as the issue states them. */
const GOALS: Record<string, Goal> = {
  [SCENARIOS.cacheHit]: { baselineName: 'node:http + ioredis GET', ratioOf: 'req/s', goal: '>= 0.85, p99 <= 5 ms', ratio: throughput, met: (ratio, service) => ratio >= 0.85 && service.p99 <= 5 },
  [SCENARIOS.byId]: { baselineName: 'node:http + mysql2 execute', ratioOf: 'req/s', goal: '>= 0.80', ratio: throughput, met: (ratio) => ratio >= 0.8 },
  [SCENARIOS.cacheHitKoa]: { baselineName: 'bare Koa 3 + @koa/router + ioredis GET', ratioOf: 'req/s', goal: '>= 0.85', ratio: throughput, met: (ratio) => ratio >= 0.85 },
  [SCENARIOS.byIdKoa]: { baselineName: 'bare Koa 3 + @koa/router + mysql2 execute', ratioOf: 'req/s', goal: '>= 0.85', ratio: throughput, met: (ratio) => ratio >= 0.85 },
  [SCENARIOS.koaFloorRedis]: { baselineName: 'the same handler on bare node:http', ratioOf: 'req/s', goal: 'reference (what the framework costs)', ratio: throughput, met: reference },
  [SCENARIOS.koaFloorMysql]: { baselineName: 'the same handler on bare node:http', ratioOf: 'req/s', goal: 'reference (what the framework costs)', ratio: throughput, met: reference },
  [SCENARIOS.contains]: { baselineName: 'LIKE scan in MariaDB', ratioOf: 'p50 latency', goal: 'p50 <= 0.05x, p99 <= 20 ms', ratio: p50Latency, met: (ratio, service) => ratio <= 0.05 && service.p99 <= 20 },
  [SCENARIOS.range]: { baselineName: 'node:http + the raw indexed SQL', ratioOf: 'p50 latency', goal: '<= 1.5x', ratio: p50Latency, met: (ratio) => ratio <= 1.5 },
  [SCENARIOS.duringLoad]: { baselineName: 'the same reads at idle', ratioOf: 'p99 latency', goal: 'p99 <= 1.5x', ratio: p99Latency, met: (ratio) => ratio <= 1.5 },
  [SCENARIOS.duringLoadInline]: { baselineName: 'the same reads at idle', ratioOf: 'p99 latency', goal: 'reference (the design not chosen)', ratio: p99Latency, met: reference },
  [SCENARIOS.duringLoadWriter]: { baselineName: 'the same reads at idle', ratioOf: 'p99 latency', goal: 'reference (the design not chosen)', ratio: p99Latency, met: reference },
  [SCENARIOS.tracingOff]: { baselineName: 'the same service without the tracing module (two fresh processes, A B C C B A)', ratioOf: 'req/s', goal: '>= 0.97 (no measurable cost)', ratio: throughput, met: (ratio) => ratio >= 0.97 },
  [SCENARIOS.tracingOn]: { baselineName: 'the same service, tracing module loaded but off (A B C C B A)', ratioOf: 'req/s', goal: '>= 0.70', ratio: throughput, met: (ratio) => ratio >= 0.7 },
};

/**
 * A read scenario's row from its rounds: the median of each round's ratio (each a pair measured in
 * the same round), judged against its goal, beside the medians of the figures.
 */
export function judgeRounds(name: string, rounds: { service: Figure[]; baseline: Figure[] }): Row {
  const goal = GOALS[name];
  if (!goal) throw new Error(`no goal for ${name}`);
  const ratio = median(rounds.service.map((service, i) => goal.ratio(service, rounds.baseline[i] as Figure)));
  const service = medianFigure(rounds.service);
  return { scenario: name, service, baseline: medianFigure(rounds.baseline), baselineName: goal.baselineName, ratio, ratioOf: goal.ratioOf, goal: goal.goal, met: goal.met(ratio, service) };
}


/** A reference row has no goal: it is never reported as met. */
export const metText = (met: boolean | null) => (met === null ? '(reference)' : met ? 'yes' : 'no');

/**
 * A figure's p99, or, from fewer than 100 samples (where the 99th percentile is the slowest
 * sample), the slowest of them, named so.
 */
export const tail = (figure: Figure) =>
  figure.samples !== undefined && figure.samples < 100 ? `slowest of ${figure.samples} ${figure.p99.toFixed(1)} ms` : `p99 ${figure.p99.toFixed(1)} ms`;

/** Prints the table and writes it to bench/results and the README. */
export function report(rows: Row[], notes: string[], appendix = '') {
  // Rates of rows carry their own text (serviceText, baselineText); a figure is requests.
  const fmt = (figure: Figure) => `${figure.rps} req/s, p50 ${figure.p50.toFixed(1)} ms, ${tail(figure)}`;
  const table = [
    '| scenario | service | baseline (same run) | ratio | goal | met |',
    '|---|---|---|---:|---|---|',
    ...rows.map((row) => `| ${row.scenario} | ${row.serviceText ?? fmt(row.service)} | ${row.baselineName}: ${row.baselineText ?? fmt(row.baseline)} | ${row.ratio.toFixed(2)}x ${row.ratioOf} | ${row.goal} | ${metText(row.met)} |`),
  ].join('\n');
  const summary = `Last run ${new Date().toISOString().slice(0, 10)}: ${SETTINGS.records} records in MariaDB 10.11, medians of ${SETTINGS.rounds} interleaved rounds, ${SETTINGS.connections} connections for autocannon runs of ${SETTINGS.seconds} s, sequential single-client latencies for searches (${SETTINGS.searchSamples} indexed searches, each a distinct term, and ${SETTINGS.scanSamples} LIKE scans per round). ${notes.join(' ')}\n\n${table}\n\n![ratios](bench/results/latest.svg)\n${appendix ? `\n${appendix}` : ''}`;
  console.log(`\n${summary}`);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/latest.json', `${JSON.stringify({ date: new Date().toISOString(), records: SETTINGS.records, rounds: SETTINGS.rounds, notes, rows }, null, 2)}\n`);
  writeFileSync('bench/results/latest.md', summary);
  writeFileSync('bench/results/latest.svg', barChart(rows));
  const readme = readFileSync('README.md', 'utf8');
  writeFileSync('README.md', readme.replace(/(<!-- bench:latest -->\n)[\s\S]*?(<!-- \/bench:latest -->)/, `$1${summary}$2`));
}


/** A small SVG bar chart of the ratios (log scale), one bar per scenario. */
function barChart(rows: Row[]): string {
  const width = 760;
  const barHeight = 26;
  const height = rows.length * (barHeight + 12) + 40;
  const x = (ratio: number) => 300 + Math.max(0, Math.min(440, ((Math.log10(ratio) + 2) / 3) * 440));
  const bars = rows
    .map((row, i) => {
      const y = 30 + i * (barHeight + 12);
      const color = row.met === null ? '#718096' : row.met ? '#2f855a' : '#c05621';
      return `<text x="292" y="${y + 18}" text-anchor="end" font-size="12">${row.scenario.replace(/&/g, '&amp;')}</text><rect x="300" y="${y}" width="${x(row.ratio) - 300}" height="${barHeight}" fill="${color}"/><text x="${x(row.ratio) + 4}" y="${y + 18}" font-size="12">${row.ratio.toFixed(2)}x ${row.ratioOf}</text>`;
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif"><text x="300" y="18" font-size="13">service / baseline (log scale; green: goal met, orange: not met, grey: reference)</text>${bars}</svg>\n`;
}
