import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { chromium } from 'playwright-core';
import { parseAllDocuments } from 'yaml';
import { run } from '../support/tools.js';
import { scrape, type ScrapeJob } from '../support/prometheus.js';
import { postJson, request, startTestApp, type TestApp } from '../support/test-app.js';

/**
 * The chart's Grafana dashboard (files/dashboard.json), as the chart renders it: every panel's
 * queries are run by a real Prometheus scraping two running service instances under a short mixed
 * load, and every panel must show data. The test Prometheus labels its targets job="records"
 * where a cluster's has namespace and service, so the chart's selector is swapped for that.
 */

type Panel = { title: string; gridPos: { x: number; y: number; w: number; h: number }; targets: Array<{ expr: string; legendFormat?: string }> };
type Range = Array<{ metric: Record<string, string>; values: Array<[number, string]> }>;

const COLORS = ['#3274d9', '#e02f44', '#56a64b', '#ff9830', '#a352cc', '#0a8fab'];

/**
 * A page that draws each panel where the dashboard places it (24 columns, rows of 30 px), one line
 * per series of its queries: what Grafana shows, without Grafana (not installable here).
 */
function pageOf(panels: Panel[], series: Map<Panel, Array<{ name: string; points: Array<[number, number]> }>>): string {
  const cell = 40;
  const row = 30;
  const boxes = panels.map((panel) => {
    const { x, y, w, h } = panel.gridPos;
    const width = w * cell - 8;
    const height = h * row - 8;
    const lines = series.get(panel) ?? [];
    const all = lines.flatMap((line) => line.points);
    const [t0, t1] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
    const top = Math.max(...all.map((p) => p[1]), 1e-9);
    const plot = { left: 10, top: 28, width: width - 20, height: height - 70 };
    const path = (points: Array<[number, number]>) =>
      points.map(([t, v], i) => `${i === 0 ? 'M' : 'L'}${(plot.left + ((t - t0) / Math.max(1, t1 - t0)) * plot.width).toFixed(1)},${(plot.top + plot.height - (v / top) * plot.height).toFixed(1)}`).join(' ');
    const legend = lines.map((line, i) => `<tspan fill="${COLORS[i % COLORS.length]}">\u25A0</tspan> ${line.name.replace(/[<&]/g, '')}`).join('  ');
    const body = lines.length
      ? lines.map((line, i) => `<path d="${path(line.points)}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="1.5"/>`).join('')
      : `<text x="${width / 2}" y="${height / 2}" text-anchor="middle" fill="#888">No data (Kong does not run here)</text>`;
    return `<svg style="position:absolute;left:${x * cell}px;top:${y * row}px" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#181b1f" stroke="#2c3235"/><text x="10" y="18" fill="#ccccdc" font-size="13" font-weight="600">${panel.title}</text><text x="${width - 10}" y="18" fill="#8e8e8e" font-size="11" text-anchor="end">max ${top.toPrecision(3)}</text>${body}<text x="10" y="${height - 12}" fill="#ccccdc" font-size="11">${legend}</text></svg>`;
  });
  return `<!doctype html><html><body style="margin:0;background:#111217;font-family:sans-serif"><div style="position:relative;width:${24 * cell}px;height:${32 * row}px">${boxes.join('')}</div></body></html>`;
}

/** Kong cannot run here: its panel's queries must be valid, and cannot return data. */
const NEEDS_KONG = 'Kong: 401 and 429 rates';

function renderedDashboard(): { panels: Panel[] } {
  const result = run('helm', ['template', 'records', 'charts/records', '--namespace', 'records', '--set', 'dashboard.enabled=true', '--show-only', 'templates/dashboard.yaml']);
  if (result.status !== 0) throw new Error(result.stderr);
  const [configMap] = parseAllDocuments(result.stdout).map((document) => document.toJS() as { data: Record<string, string> });
  return JSON.parse(configMap?.data['records.json'] as string);
}

describe('the Grafana dashboard, every panel evaluated by a real Prometheus', function () {
  this.timeout(120_000);
  const job = 'records-dashboard';
  const dir = mkdtempSync(join(tmpdir(), 'records-dashboard-'));
  let pods: TestApp[] = [];
  let prometheus: ScrapeJob | undefined;

  before(async function () {
    pods = [await startTestApp('sqlite'), await startTestApp('sqlite')];
    prometheus = await scrape(job, pods.map((pod) => pod.baseUrl.replace('http://', '')));
    // Mixed traffic (writes with a rejected item, reads that hit and miss the cache, a 400) for as
    // long as the panels' 5 s and 15 s windows need at a 1 s scrape; longer when drawing the
    // picture for the docs (make dashboard-image), so its lines have a shape.
    const seconds = process.env.RECORDS_DASHBOARD_IMAGE ? 20 : 8;
    const started = Date.now();
    for (let round = 0; Date.now() - started < seconds * 1000; round += 1) {
      for (const pod of pods) {
        await postJson(pod.baseUrl, '/v1/bulk', { items: [{ title: `dashboard ${round}`, date: '2020-01-01' }, { title: 'no year', date: 'May 23' }] });
        await request(pod.baseUrl, '/v1/1');
        await request(pod.baseUrl, '/v1/1');
        await request(pod.baseUrl, `/v1/?contains=dashboard&limit=${(round % 3) + 1}`);
        await request(pod.baseUrl, '/v1/?limit=0');
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await prometheus.scrapedAfter(Date.now() / 1000);
  });
  after(async function () {
    prometheus?.stop();
    rmSync(dir, { recursive: true, force: true });
    for (const pod of pods) await pod.close();
  });

  const toLocal = (expr: string, window: string) => expr.replaceAll('namespace="records",service="records"', `job="${job}"`).replaceAll('$__rate_interval', window);

  async function evaluate(expr: string): Promise<{ status: string; series: number; error?: string }> {
    const body = await prometheus!.query(toLocal(expr, '15s'));
    return { status: body.status, series: body.data?.result.length ?? 0, error: body.error };
  }

  it('has the panels an operator needs', function () {
    expect(renderedDashboard().panels.map((panel) => panel.title)).to.deep.equal([
      'Requests by route',
      'Errors by route (5xx)',
      'Latency percentiles',
      'Cache hit ratio',
      'Database query latency (p99)',
      'Ingest rate and rejections',
      'Replicas and the KEDA trigger',
      NEEDS_KONG,
    ]);
  });

  it('scopes every service query to the release, and each returns data', async function () {
    const empty: string[] = [];
    for (const panel of renderedDashboard().panels) {
      for (const { expr } of panel.targets) {
        if (panel.title !== NEEDS_KONG) expect(expr, panel.title).to.contain('namespace="records",service="records"');
        const result = await evaluate(expr);
        expect(result.status, `${panel.title}: ${expr}: ${result.error}`).to.equal('success');
        if (result.series === 0 && panel.title !== NEEDS_KONG) empty.push(`${panel.title}: ${expr}`);
      }
    }
    expect(empty, 'queries without data').to.deep.equal([]);
  });

  it('renders as an image from the same queries (docs/images/dashboard.png: make dashboard-image)', async function () {
    const panels = renderedDashboard().panels;
    const end = Date.now() / 1000;
    const series = new Map<Panel, Array<{ name: string; points: Array<[number, number]> }>>();
    for (const panel of panels) {
      const lines: Array<{ name: string; points: Array<[number, number]> }> = [];
      for (const target of panel.targets) {
        const results: Range = await prometheus!.range(toLocal(target.expr, '5s'), end - 25, end, 1);
        for (const result of results) {
          const name = (target.legendFormat ?? '').replace(/\{\{(\w+)\}\}/g, (_, label: string) => result.metric[label] ?? '');
          lines.push({ name, points: result.values.map(([t, v]) => [t, Number(v)] as [number, number]).filter(([, v]) => Number.isFinite(v)) });
        }
      }
      series.set(panel, lines);
    }
    const target = process.env.RECORDS_DASHBOARD_IMAGE ?? join(dir, 'dashboard.png');
    mkdirSync(join(target, '..'), { recursive: true });
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
    try {
      const page = await browser.newPage({ viewport: { width: 960, height: 960 } });
      await page.setContent(pageOf(panels, series));
      await page.screenshot({ path: target });
    } finally {
      await browser.close();
    }
    expect(existsSync(target) && statSync(target).size, 'an image was written').to.be.greaterThan(10_000);
    expect([...series.values()].filter((lines) => lines.length > 0)).to.have.length(panels.length - 1);
  });
});
