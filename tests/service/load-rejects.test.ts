import { expect } from 'chai';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InputItem, Source } from '../../service/src/loader/input.js';
import { load, LoadFailed } from '../../service/src/loader/load.js';
import type { Progress } from '../../service/src/loader/progress.js';
import { uniqueTag } from '../support/factories.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** Where `records load` writes rejected items: a path it cannot write stops it before it sends anything. */
describe('the loader and its rejects file', function () {
  let app: TestApp;
  const dir = mkdtempSync(join(tmpdir(), 'records-rejects-'));
  before(async () => {
    app = await startTestApp('sqlite');
  });
  after(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const quiet: Progress = { update: () => {}, note: () => {}, done: () => {} };
  async function* itemsOf(values: unknown[]): AsyncGenerator<InputItem> {
    for (const [index, value] of values.entries()) yield { record: index + 1, line: index + 1, value };
  }
  const run = (tag: string, rejectsPath: string) => {
    const source: Source = { path: join(dir, `${tag}.ndjson`), format: 'ndjson', digest: tag, records: 2, version: null };
    const items = itemsOf([{ title: `${tag} good`, date: '2020-01-01' }, { title: `${tag} bad`, date: 'May 23' }]);
    return load(source, items, { url: app.baseUrl, chunkSize: 10, rejectsPath, attempts: 1, progress: quiet });
  };

  it('fails with LoadFailed, storing nothing, when the rejects file cannot be written', async function () {
    const tag = uniqueTag();
    const outcome = await run(tag, join(dir, 'no-such-directory', 'rejects.ndjson')).catch((error: unknown) => error);
    expect(outcome).to.be.instanceOf(LoadFailed);
    expect((outcome as Error).message).to.match(/rejects\.ndjson/);
    expect(await app.countTagged(tag)).to.equal(0);
  });

  it('writes the rejected items, and leaves no file when nothing was rejected', async function () {
    const tag = uniqueTag();
    const rejects = join(dir, `${tag}.rejected.ndjson`);
    expect(await run(tag, rejects)).to.include({ stored: 1, rejected: 1 });
    expect(readFileSync(rejects, 'utf8')).to.contain('date has no year');
    const clean = uniqueTag();
    const none = join(dir, `${clean}.rejected.ndjson`);
    const source: Source = { path: join(dir, 'clean.ndjson'), format: 'ndjson', digest: clean, records: 1, version: null };
    await load(source, itemsOf([{ title: `${clean} good`, date: '2020-01-01' }]), { url: app.baseUrl, chunkSize: 10, rejectsPath: none, attempts: 1, progress: quiet });
    expect(existsSync(none)).to.equal(false);
  });

  it('waits as long as a 429\'s Retry-After asks before sending the chunk again, and gives up on a wait past 15 minutes', async function () {
    const arrivals: number[] = [];
    const paths: string[] = [];
    let retryAfter = '1';
    const limited = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        arrivals.push(Date.now());
        paths.push(req.url ?? '');
        if (arrivals.length === 1) return res.writeHead(429, { 'retry-after': retryAfter, 'content-type': 'application/problem+json' }).end('{"detail":"rate limited"}');
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"inserted":1,"rejected":[],"rejectedCount":0,"idRanges":[[1,1]]}');
      });
    });
    await new Promise<void>((resolve) => limited.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(limited.address() as AddressInfo).port}`;
    const source: Source = { path: join(dir, 'limited.ndjson'), format: 'ndjson', digest: uniqueTag(), records: 1, version: null };
    // A URL naming the API's /v1 itself reaches the same endpoint.
    const options = { url: `${url}/v1`, chunkSize: 10, rejectsPath: join(dir, 'limited.rejected.ndjson'), attempts: 3, progress: quiet, retryDelayMs: 10 };
    try {
      expect(await load(source, itemsOf([{ title: 'x', date: '2020-01-01' }]), options)).to.include({ stored: 1 });
      expect(arrivals).to.have.length(2);
      expect(paths).to.deep.equal(['/v1/bulk', '/v1/bulk']);
      expect((arrivals[1] ?? 0) - (arrivals[0] ?? 0), 'the retry came when the service asked').to.be.at.least(950);
      arrivals.length = 0;
      retryAfter = '3600';
      const outcome = await load(source, itemsOf([{ title: 'x', date: '2020-01-01' }]), options).catch((error: unknown) => error);
      expect(outcome).to.be.instanceOf(LoadFailed);
      expect((outcome as Error).message).to.match(/retry after 3600 s/);
    } finally {
      limited.closeAllConnections();
      await new Promise((resolve) => limited.close(resolve));
    }
  });
});
