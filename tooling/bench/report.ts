import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Figure } from './harness.js';
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
  met: boolean;
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

/** Each scenario's baseline, ratio and goal, as the issue states them. */
export function judge(name: string, service: Figure, baseline: Figure): Omit<Row, 'scenario' | 'service' | 'baseline'> {
  const throughput = service.rps / baseline.rps;
  const latency = service.p50 / baseline.p50;
  switch (name) {
    case SCENARIOS.cacheHit:
      return { baselineName: 'node:http + ioredis GET', ratio: throughput, ratioOf: 'req/s', goal: '>= 0.85, p99 <= 5 ms', met: throughput >= 0.85 && service.p99 <= 5 };
    case SCENARIOS.byId:
      return { baselineName: 'node:http + mysql2 execute', ratio: throughput, ratioOf: 'req/s', goal: '>= 0.80', met: throughput >= 0.8 };
    case SCENARIOS.cacheHitKoa:
      return { baselineName: 'bare Koa 3 + @koa/router + ioredis GET', ratio: throughput, ratioOf: 'req/s', goal: '>= 0.85', met: throughput >= 0.85 };
    case SCENARIOS.byIdKoa:
      return { baselineName: 'bare Koa 3 + @koa/router + mysql2 execute', ratio: throughput, ratioOf: 'req/s', goal: '>= 0.85', met: throughput >= 0.85 };
    case SCENARIOS.koaFloorRedis:
    case SCENARIOS.koaFloorMysql:
      return { baselineName: 'the same handler on bare node:http', ratio: throughput, ratioOf: 'req/s', goal: 'reference (what the framework costs)', met: true };
    case SCENARIOS.contains:
      return { baselineName: 'LIKE scan in MariaDB', ratio: latency, ratioOf: 'p50 latency', goal: 'p50 <= 0.05x, p99 <= 20 ms', met: latency <= 0.05 && service.p99 <= 20 };
    case SCENARIOS.range:
      return { baselineName: 'node:http + the raw indexed SQL', ratio: latency, ratioOf: 'p50 latency', goal: '<= 1.5x', met: latency <= 1.5 };
    case SCENARIOS.duringLoad:
      return { baselineName: 'the same reads at idle', ratio: service.p99 / baseline.p99, ratioOf: 'p99 latency', goal: 'p99 <= 1.5x', met: service.p99 / baseline.p99 <= 1.5 };
    case SCENARIOS.duringLoadInline:
    case SCENARIOS.duringLoadWriter:
      return { baselineName: 'the same reads at idle', ratio: service.p99 / baseline.p99, ratioOf: 'p99 latency', goal: 'reference (the design not chosen)', met: true };
    case SCENARIOS.tracingOff:
      return { baselineName: 'the same service without the tracing module (two fresh processes, A B B A)', ratio: throughput, ratioOf: 'req/s', goal: '>= 0.97 (no measurable cost)', met: throughput >= 0.97 };
    case SCENARIOS.tracingOn:
      return { baselineName: 'the same reads, tracing off', ratio: throughput, ratioOf: 'req/s', goal: '>= 0.70', met: throughput >= 0.7 };
    default:
      throw new Error(`no goal for ${name}`);
  }
}


/** Prints the table and writes it to bench/results and the README. */
export function report(rows: Row[], notes: string[], appendix = '') {
  // Rates of rows carry their own text (serviceText, baselineText); a figure is requests.
  const fmt = (figure: Figure) => `${figure.rps} req/s, p50 ${figure.p50.toFixed(1)} ms, p99 ${figure.p99.toFixed(1)} ms`;
  const table = [
    '| scenario | service | baseline (same run) | ratio | goal | met |',
    '|---|---|---|---:|---|---|',
    ...rows.map((row) => `| ${row.scenario} | ${row.serviceText ?? fmt(row.service)} | ${row.baselineName}: ${row.baselineText ?? fmt(row.baseline)} | ${row.ratio.toFixed(2)}x ${row.ratioOf} | ${row.goal} | ${row.met ? 'yes' : 'no'} |`),
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
      const color = row.met ? '#2f855a' : '#c05621';
      return `<text x="292" y="${y + 18}" text-anchor="end" font-size="12">${row.scenario.replace(/&/g, '&amp;')}</text><rect x="300" y="${y}" width="${x(row.ratio) - 300}" height="${barHeight}" fill="${color}"/><text x="${x(row.ratio) + 4}" y="${y + 18}" font-size="12">${row.ratio.toFixed(2)}x ${row.ratioOf}</text>`;
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif"><text x="300" y="18" font-size="13">service / baseline (log scale; green: goal met)</text>${bars}</svg>\n`;
}
