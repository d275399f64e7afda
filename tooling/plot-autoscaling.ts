import { readFileSync, writeFileSync } from 'node:fs';

/**
 * The autoscaling timeline the Argo CD suite records (tests/argocd/autoscaling.ts writes
 * .test-results/autoscaling.json) as an SVG of stacked panels sharing the time axis: Locust's
 * request rate, the rate per pod KEDA read against its target, replicas (desired and Ready), p99.
 * usage: tsx tooling/plot-autoscaling.ts [IN.json] [OUT.svg]   (default docs/images/autoscaling.svg)
 */

type Row = { time: number; replicas: number; ready: number; keda: number | null; cpu: number | null; rps: number | null; p99: number | null };

const [input = '.test-results/autoscaling.json', output = 'docs/images/autoscaling.svg'] = process.argv.slice(2);
const { settings, rows } = JSON.parse(readFileSync(input, 'utf8')) as { settings: { prometheus?: { requestsPerSecondPerPod?: number } }; rows: Row[] };
const start = rows[0]!.time;
const end = rows.at(-1)!.time;
const target = settings.prometheus?.requestsPerSecondPerPod;

const width = 760;
const left = 60;
const plotWidth = width - left - 20;
const panelHeight = 110;
const gap = 36;
const x = (time: number) => left + ((time - start) / (end - start || 1)) * plotWidth;

type Series = { label: string; color: string; value: (row: Row) => number | null; dashed?: boolean };
const panels: Array<{ title: string; series: Series[]; line?: { value: number; label: string } }> = [
  { title: "Locust's requests per second", series: [{ label: 'req/s', color: '#2b6cb0', value: (row) => row.rps }] },
  { title: 'API requests per second per pod, as KEDA read it', series: [{ label: 'rate/pod', color: '#c05621', value: (row) => row.keda }], ...(target ? { line: { value: target, label: `target ${target}` } } : {}) },
  {
    title: 'replicas',
    series: [
      { label: 'desired', color: '#6b46c1', value: (row) => row.replicas, dashed: true },
      { label: 'Ready', color: '#2f855a', value: (row) => row.ready },
    ],
  },
  { title: "p99 (ms, Locust's last seconds)", series: [{ label: 'p99', color: '#9b2c2c', value: (row) => row.p99 }] },
];

const parts = panels.map((panel, index) => {
  const top = 40 + index * (panelHeight + gap);
  const values = panel.series.flatMap((series) => rows.map(series.value)).filter((value): value is number => value !== null);
  const yMax = Math.max(...values, panel.line?.value ?? 0, 1) * 1.15;
  const y = (value: number) => top + panelHeight - (value / yMax) * panelHeight;
  const lines = panel.series.map((series) => {
    const points = rows.filter((row) => series.value(row) !== null).map((row) => `${x(row.time).toFixed(1)},${y(series.value(row)!).toFixed(1)}`).join(' ');
    return `<polyline points="${points}" fill="none" stroke="${series.color}" stroke-width="2"${series.dashed ? ' stroke-dasharray="5 3"' : ''}/>`;
  });
  const legend = panel.series.map((series, at) => `<text x="${left + plotWidth - 140 + at * 70}" y="${top - 8}" font-size="11" fill="${series.color}">${series.label}</text>`);
  const threshold = panel.line ? `<line x1="${left}" x2="${left + plotWidth}" y1="${y(panel.line.value)}" y2="${y(panel.line.value)}" stroke="#718096" stroke-dasharray="3 3"/><text x="${left + 4}" y="${y(panel.line.value) - 4}" font-size="10" fill="#718096">${panel.line.label}</text>` : '';
  const axis = [0, yMax / 1.15 / 2, yMax / 1.15].map((tick) => `<text x="${left - 6}" y="${y(tick) + 4}" font-size="10" text-anchor="end">${tick >= 10 ? Math.round(tick) : tick.toFixed(1)}</text>`);
  return `<text x="${left}" y="${top - 8}" font-size="12">${panel.title}</text><rect x="${left}" y="${top}" width="${plotWidth}" height="${panelHeight}" fill="none" stroke="#cbd5e0"/>${threshold}${lines.join('')}${legend.join('')}${axis.join('')}`;
});
const bottom = 40 + panels.length * (panelHeight + gap) - gap;
const step = Math.max(30, Math.ceil((end - start) / 8 / 30) * 30);
const ticks = [];
for (let t = 0; t <= end - start; t += step) ticks.push(`<text x="${x(start + t).toFixed(1)}" y="${bottom + 16}" font-size="10" text-anchor="middle">${t} s</text>`);
writeFileSync(output, `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${bottom + 30}" font-family="sans-serif"><text x="${left}" y="18" font-size="13">KEDA scaling the records Deployment under Locust's load (make check, Argo CD suite)</text>${parts.join('')}${ticks.join('')}</svg>\n`);
console.log(`wrote ${output} from ${input} (${rows.length} samples over ${end - start} s)`);
