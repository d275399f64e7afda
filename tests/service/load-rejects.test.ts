import { expect } from 'chai';
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
    const source: Source = { path: join(dir, `${tag}.ndjson`), format: 'ndjson', digest: tag, records: 2 };
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
    const source: Source = { path: join(dir, 'clean.ndjson'), format: 'ndjson', digest: clean, records: 1 };
    await load(source, itemsOf([{ title: `${clean} good`, date: '2020-01-01' }]), { url: app.baseUrl, chunkSize: 10, rejectsPath: none, attempts: 1, progress: quiet });
    expect(existsSync(none)).to.equal(false);
  });
});
