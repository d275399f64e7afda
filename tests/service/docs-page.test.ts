import { existsSync } from 'node:fs';
import { expect } from 'chai';
import { chromium, type Browser } from 'playwright-core';
import { startTestApp, type TestApp } from '../support/test-app.js';

const CHROMIUM = '/usr/bin/chromium';

describe('the /docs page in a real headless browser', function () {
  this.timeout(90_000);
  let app: TestApp;
  let browser: Browser;

  before(async function () {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: scripts/ensure-packages installs Debian's chromium`);
    app = await startTestApp('sqlite');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // No network here but loopback: keep Chromium from reaching for anything else. playwright
      // gives it a fresh temporary profile.
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  after(async function () {
    await browser?.close();
    await app?.close();
  });

  it('lists every operation of the contract, with no failed request and no script error', async function () {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('requestfailed', (request) => problems.push(`failed: ${request.url()}`));
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`${response.status()}: ${response.url()}`);
    });
    await page.goto(`${app.baseUrl}/docs`);
    await page.waitForSelector('.opblock', { timeout: 30_000 });
    const operations = await page.$$eval('.opblock-summary-path', (nodes) => nodes.map((node) => node.getAttribute('data-path') ?? node.textContent?.trim()));
    const methods = await page.$$eval('.opblock-summary-method', (nodes) => nodes.map((node) => node.textContent?.trim()));
    expect(operations.map((path, i) => `${methods[i]} ${path}`).sort()).to.deep.equal(['GET /v1/', 'GET /v1/{id}', 'POST /v1/bulk']);
    expect(await page.textContent('.title')).to.contain('records API');
    // The first server is the origin serving the page, so "Try it out" works under make run.
    const servers = await page.$$eval('.servers select option', (options) => options.map((option) => option.getAttribute('value')));
    expect(servers).to.deep.equal([app.baseUrl, 'https://api.example.org']);
    expect(problems).to.deep.equal([]);
  });
});
