import { writeFileSync } from 'node:fs';

/** How each scenario grows with the number of records: measured points and their SVG chart. */
export type GrowthPoint = { records: number; containsP50: number; containsP99: number; rangeP50: number; byIdRps: number; bulkRowsPerSecond: number };

const SERIES: Array<{ key: keyof Omit<GrowthPoint, 'records'>; label: string; unit: string; color: string }> = [
  { key: 'containsP99', label: 'contains p99', unit: 'ms', color: '#c05621' },
  { key: 'containsP50', label: 'contains p50', unit: 'ms', color: '#dd6b20' },
  { key: 'rangeP50', label: 'one-month range p50', unit: 'ms', color: '#2b6cb0' },
  { key: 'byIdRps', label: 'GET by id (database)', unit: 'req/s', color: '#2f855a' },
  { key: 'bulkRowsPerSecond', label: 'bulk JSON', unit: 'rows/s', color: '#6b46c1' },
];

export function growthTable(points: GrowthPoint[]): string {
  return [
    `| records | ${SERIES.map((s) => `${s.label} (${s.unit})`).join(' | ')} |`,
    `|---:|${SERIES.map(() => '---:').join('|')}|`,
    ...points.map((p) => `| ${p.records.toLocaleString('en-US')} | ${SERIES.map((s) => (s.unit === 'ms' ? p[s.key].toFixed(1) : Math.round(p[s.key]))).join(' | ')} |`),
  ].join('\n');
}

/**
 * One panel per series (its own y scale from 0), records on a log x axis: growth that stays flat
 * across a 50x range of records reads as a flat line.
 */
export function writeGrowthChart(path: string, points: GrowthPoint[]): void {
  const panelWidth = 300;
  const panelHeight = 150;
  const columns = 3;
  const margin = 46;
  const xs = points.map((p) => Math.log10(p.records));
  const [xMin, xMax] = [Math.min(...xs), Math.max(...xs)];
  const panels = SERIES.map((series, index) => {
    const left = (index % columns) * (panelWidth + margin) + margin;
    const top = Math.floor(index / columns) * (panelHeight + margin + 20) + 56;
    const values = points.map((p) => p[series.key]);
    const yMax = Math.max(...values) * 1.15 || 1;
    const x = (records: number) => left + ((Math.log10(records) - xMin) / (xMax - xMin || 1)) * panelWidth;
    const y = (value: number) => top + panelHeight - (value / yMax) * panelHeight;
    const line = points.map((p) => `${x(p.records).toFixed(1)},${y(p[series.key]).toFixed(1)}`).join(' ');
    const dots = points
      .map((p) => `<circle cx="${x(p.records).toFixed(1)}" cy="${y(p[series.key]).toFixed(1)}" r="3" fill="${series.color}"/><text x="${x(p.records).toFixed(1)}" y="${(y(p[series.key]) - 6).toFixed(1)}" font-size="10" text-anchor="middle">${series.unit === 'ms' ? p[series.key].toFixed(1) : Math.round(p[series.key])}</text>`)
      .join('');
    const ticks = points.map((p) => `<text x="${x(p.records).toFixed(1)}" y="${top + panelHeight + 14}" font-size="10" text-anchor="middle">${p.records >= 1e6 ? `${p.records / 1e6}M` : `${p.records / 1e3}k`}</text>`).join('');
    return `<text x="${left}" y="${top - 10}" font-size="12">${series.label} (${series.unit})</text><rect x="${left}" y="${top}" width="${panelWidth}" height="${panelHeight}" fill="none" stroke="#cbd5e0"/><polyline points="${line}" fill="none" stroke="${series.color}" stroke-width="2"/>${dots}${ticks}`;
  });
  const rows = Math.ceil(SERIES.length / columns);
  const width = columns * (panelWidth + margin) + margin;
  const height = rows * (panelHeight + margin + 20) + 46;
  writeFileSync(path, `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif"><text x="${margin}" y="18" font-size="13">Growth with the number of records (records on a log scale)</text>${panels.join('')}</svg>\n`);
}
