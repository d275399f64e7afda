import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ServiceProcess } from '../support/service-process.js';

/**
 * A JSON bulk body within BODY_LIMIT that parses into millions of values: with the heap bound the
 * chart gives (NODE_OPTIONS), 10 MiB of `{}` items ended the whole process with a fatal
 * out-of-memory error before the item count was checked. The service as a process, so that such an
 * end shows as one.
 */
describe('a bulk body that would parse into millions of values', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'records-values-'));
  let service: ServiceProcess;
  before(async function () {
    service = await ServiceProcess.start({ DATABASE_URL: join(dir, 'r.sqlite'), NODE_OPTIONS: '--max-old-space-size=128 --max-semi-space-size=8' });
  });
  after(async function () {
    await service?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (body: string) => fetch(`${service.baseUrl}/v1/bulk`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  /** `{"items": [...]}` of about 10 MiB, its array filled with `element`. */
  const filled = (element: string, wrap = (items: string) => items) => {
    const count = Math.floor((10 * 1024 * 1024 - 64) / (element.length + 1));
    return `{"items": ${wrap(`[${Array.from({ length: count }, () => element).join(',')}]`)}}`;
  };

  it('is refused with 413 before it is parsed, and the service serves on', async function () {
    for (const [what, body] of [
      ['3.5 million empty items', filled('{}')],
      ['one item holding 3.5 million arrays', filled('[]', (arrays) => `[{"title": ${arrays}}]`)],
      ['one item holding 5 million numbers', filled('0', (numbers) => `[{"title": ${numbers}}]`)],
    ] as const) {
      const response = await post(body).catch((error: Error) => error);
      expect(response instanceof Error ? `${response.message}: ${String(response.cause)}` : response.status, what).to.equal(413);
      const problem = (await (response as Response).json()) as { type: string; errors: unknown[] };
      expect(problem.type, what).to.equal('/problems/too-many-items');
      expect((await fetch(`${service.baseUrl}/healthz`)).status, `${what}: still serving`).to.equal(200);
    }
  });

  it('still takes 10,000 items of any size the body allows, braces, commas, quotes and backslashes in their titles included', async function () {
    // Quotes and backslashes too: escaped in the JSON, they must not end a string early for the count.
    const items = Array.from({ length: 10_000 }, (_, index) => ({ title: `"{[${index}],}\\"`.padEnd(60, ','), date: '2020-01-01' }));
    const response = await post(JSON.stringify({ items }));
    expect(response.status).to.equal(200);
    expect(((await response.json()) as { ids: unknown[] }).ids).to.have.length(10_000);
  });
});
