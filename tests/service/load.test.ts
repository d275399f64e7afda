import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { generateRecords } from '../../tooling/generate-records.js';
import { startLoader, storedRecords } from '../support/loader-process.js';
import { sampleSum } from '../support/metrics-text.js';
import { ServiceProcess } from '../support/service-process.js';
import { waitFor } from '../support/wait.js';

/**
 * `records load` as a user runs it, against the service as a process over a SQLite file: counts
 * are read from that file, so "stored once" means exactly one row per record. Both run compiled, as
 * the image ships them: the suite starts the service a dozen times.
 */

// Enough chunks that a kill lands between two of them; the big loads are make bench's.
const RECORDS = 5_000;
const CHUNK = '100';

describe('records load, the loader for big files', function () {
  this.timeout(300_000);
  const dir = mkdtempSync(join(tmpdir(), 'records-load-'));
  const file = join(dir, 'records.ndjson');
  let database = 0;

  before(function () {
    // Every record valid, so each run must end with exactly RECORDS rows.
    writeFileSync(file, `${Array.from(generateRecords(RECORDS, 11, 0), (record) => JSON.stringify(record)).join('\n')}\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A fresh database and a service over it; `rows()` counts what it stored. */
  async function freshService(env: Record<string, string> = {}) {
    const path = join(dir, `db-${(database += 1)}.sqlite`);
    const service = await ServiceProcess.start({ DATABASE_URL: path, ...env }, { compiled: true });
    const rows = () => storedRecords(path);
    return { path, service, rows };
  }

  it(`loads ${RECORDS.toLocaleString('en')} records with the right counts`, async function () {
    const { service, rows } = await freshService();
    try {
      const { code, stderr } = await startLoader([file, '--url', service.baseUrl, '--chunk-size', CHUNK]).done;
      expect(code, stderr).to.equal(0);
      expect(stderr).to.contain(`records load: ${RECORDS} of ${RECORDS} records stored`);
      expect(stderr, 'plain progress lines when not on a terminal').to.match(new RegExp(`sent \\d+/${RECORDS} records, stored \\d+, rejected 0, [\\d.k]+ records/s, ETA`));
      expect(rows()).to.equal(RECORDS);
    } finally {
      await service.stop();
    }
  });

  it('stores each record once when the loader is killed halfway and run again', async function () {
    const { service, rows } = await freshService();
    try {
      const first = startLoader([file, '--url', service.baseUrl, '--chunk-size', CHUNK]);
      await waitFor('a quarter of the records stored', async () => rows() >= RECORDS / 4, 120_000, 10);
      first.child.kill('SIGKILL');
      await first.done;
      expect(rows()).to.be.below(RECORDS);
      const { code, stderr } = await startLoader([file, '--url', service.baseUrl, '--chunk-size', CHUNK]).done;
      expect(code, stderr).to.equal(0);
      expect(stderr).to.match(/chunks were stored by an earlier run/);
      expect(rows()).to.equal(RECORDS);
    } finally {
      await service.stop();
    }
  });

  it('stores each record once when the service is killed halfway and the load is run again', async function () {
    const { path, service, rows } = await freshService();
    let restarted: ServiceProcess | null = null;
    try {
      const first = startLoader([file, '--url', service.baseUrl, '--chunk-size', CHUNK, '--attempts', '2']);
      await waitFor('a quarter of the records stored', async () => rows() >= RECORDS / 4, 120_000, 10);
      service.signal('SIGKILL');
      const failed = await first.done;
      expect(failed.code, failed.stderr).to.equal(1);
      expect(failed.stderr).to.match(/after 2 attempts; run the same command again to resume/);
      // The same service at the same address, as a user runs the same command again.
      restarted = await ServiceProcess.start({ DATABASE_URL: path, PORT: new URL(service.baseUrl).port }, { compiled: true });
      const { code, stderr } = await startLoader([file, '--url', restarted.baseUrl, '--chunk-size', CHUNK]).done;
      expect(code, stderr).to.equal(0);
      expect(rows()).to.equal(RECORDS);
    } finally {
      await service.stop();
      await restarted?.stop();
    }
  });

  /** RECORDS records, every 97th rejected, and the rejects file one uninterrupted load of them writes (loaded once). */
  let withRejects: Promise<{ content: string; rejectedCount: number; expectedRejects: string }> | null = null;
  function loadedWithRejects() {
    withRejects ??= (async () => {
      const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
      const bad = (index: number) => index % 97 === 5;
      const content = `${lines.map((line, index) => (bad(index) ? JSON.stringify({ ...JSON.parse(line), date: 'May 23' }) : line)).join('\n')}\n`;
      const input = join(dir, 'one-run.ndjson');
      writeFileSync(input, content);
      const oneRun = await freshService();
      try {
        const whole = await startLoader([input, '--url', oneRun.service.baseUrl, '--chunk-size', CHUNK]).done;
        expect(whole.code, whole.stderr).to.equal(3);
        return { content, rejectedCount: lines.filter((_, index) => bad(index)).length, expectedRejects: readFileSync(`${input}.rejected.ndjson`, 'utf8') };
      } finally {
        await oneRun.service.stop();
      }
    })();
    return withRejects;
  }

  /** A file of its own, named `name`, of those records, and what one load of them rejects. */
  async function fileWithRejects(name: string): Promise<{ input: string; rejectedCount: number; expectedRejects: string }> {
    const { content, rejectedCount, expectedRejects } = await loadedWithRejects();
    const input = join(dir, name);
    writeFileSync(input, content);
    return { input, rejectedCount, expectedRejects };
  }

  /**
   * A load of `input` stopped after about a quarter of it, its service stopped as a rollout stops
   * it (every request it took answered, then the next one fails), with Idempotency-Keys kept for a
   * second only; then a service again on the same database, once those keys have expired.
   */
  async function stoppedLoad(input: string) {
    const shortKeys = { IDEMPOTENCY_TTL_SECONDS: '1', SHUTDOWN_DRAIN_SECONDS: '0' };
    const { path, service, rows } = await freshService(shortKeys);
    const first = startLoader([input, '--url', service.baseUrl, '--chunk-size', CHUNK, '--attempts', '1']);
    await waitFor('a quarter of the records stored', async () => rows() >= RECORDS / 4, 120_000, 10);
    service.signal('SIGTERM');
    await service.exitCode;
    const failed = await first.done;
    expect(failed.code, failed.stderr).to.equal(1);
    const { sent } = JSON.parse(readFileSync(`${input}.rejected.ndjson.load-state.json`, 'utf8')) as { sent: { chunks: number } };
    expect(sent.chunks).to.be.within(1, RECORDS / Number(CHUNK) - 1);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const restarted = await ServiceProcess.start({ DATABASE_URL: path, ...shortKeys, PORT: new URL(service.baseUrl).port }, { compiled: true });
    // Counted by the service's request metric, which is exact at once (request lines are batched).
    const requests = async () => sampleSum(await (await fetch(`${restarted.baseUrl}/metrics`)).text(), 'http_request_duration_seconds_count', { method: 'POST' });
    return { rows, sent, restarted, requests };
  }

  it('skips on a re-run the chunks the service had answered: none sent again, none stored twice once their keys expired (each was replayed, a request apiece, and stored again past IDEMPOTENCY_TTL_SECONDS); at another URL only when told it is the same service', async function () {
    const { input, rejectedCount, expectedRejects } = await fileWithRejects('resumed-skips.ndjson');
    const { rows, sent, restarted, requests } = await stoppedLoad(input);
    try {
      // The same service spelled another way stands in for another one, which the loader cannot
      // tell apart: chunks answered elsewhere would never be sent to it (a load begun on staging,
      // run again against production).
      const elsewhere = restarted.baseUrl.replace('127.0.0.1', 'localhost');
      const refused = await startLoader([input, '--url', elsewhere, '--chunk-size', CHUNK]).done;
      expect(refused.code, refused.stderr).to.equal(1);
      expect(refused.stderr).to.contain(`sent its first ${sent.chunks} chunks to ${restarted.baseUrl}/v1/bulk`).and.to.contain('--same-service');
      expect(await requests(), 'requests of the refused run').to.equal(0);
      const rerun = await startLoader([input, '--url', elsewhere, '--chunk-size', CHUNK, '--same-service']).done;
      expect(rerun.code, rerun.stderr).to.equal(3);
      expect(rerun.stderr).to.contain(`records load: ${RECORDS - rejectedCount} of ${RECORDS} records stored, ${rejectedCount} rejected`);
      expect(rerun.stderr).to.contain(`${sent.chunks} of ${RECORDS / Number(CHUNK)} chunks were stored by an earlier run`);
      expect(rows()).to.equal(RECORDS - rejectedCount);
      expect(await requests(), 'requests of the re-run').to.equal(RECORDS / Number(CHUNK) - sent.chunks);
      // The rejections of the skipped chunks kept, the rest appended: as one run writes them.
      expect(readFileSync(`${input}.rejected.ndjson`, 'utf8')).to.equal(expectedRejects);
      expect(existsSync(`${input}.rejected.ndjson.load-state.json`), 'a finished load leaves no state').to.equal(false);
    } finally {
      await restarted.stop();
    }
  });

  for (const [what, change] of [
    ['moved away', (path: string) => rmSync(path)],
    ['cut in the middle of a line', (path: string) => writeFileSync(path, readFileSync(path).subarray(0, Math.floor(statSync(path).size / 2)))],
  ] as const) {
    it(`skips them even when their rejects file was ${what} meanwhile, keeping its whole lines and saying how many there were (it sent the whole load again)`, async function () {
      const { input, rejectedCount, expectedRejects } = await fileWithRejects(`resumed-rejects-${what.replaceAll(' ', '-')}.ndjson`);
      const { rows, sent, restarted, requests } = await stoppedLoad(input);
      try {
        const rejectsPath = `${input}.rejected.ndjson`;
        const before = readFileSync(rejectsPath, 'utf8');
        change(rejectsPath);
        const left = existsSync(rejectsPath) ? readFileSync(rejectsPath, 'utf8').split('\n').slice(0, -1) : [];
        const rerun = await startLoader([input, '--url', restarted.baseUrl, '--chunk-size', CHUNK]).done;
        expect(rerun.code, rerun.stderr).to.equal(3);
        expect(rows()).to.equal(RECORDS - rejectedCount);
        expect(await requests(), 'requests of the re-run').to.equal(RECORDS / Number(CHUNK) - sent.chunks);
        const skippedRecords = sent.chunks * Number(CHUNK);
        const rest = expectedRejects.trimEnd().split('\n').filter((line) => (JSON.parse(line) as { record: number }).record > skippedRecords);
        const lines = readFileSync(rejectsPath, 'utf8').trimEnd().split('\n');
        // The whole lines left of the earlier run's, then a line for what it had, then the rest.
        expect(lines.slice(0, left.length)).to.deep.equal(left);
        expect(before.startsWith(left.map((line) => `${line}\n`).join(''))).to.equal(true);
        expect(JSON.parse(lines[left.length]!)).to.deep.include({ chunks: `1-${sent.chunks}`, rejected: rejectedCount - rest.length });
        expect(lines.slice(left.length + 1)).to.deep.equal(rest);
      } finally {
        await restarted.stop();
      }
    });
  }

  it('writes rejected items with their reasons, and says so in its exit code', async function () {
    const { service, rows } = await freshService();
    const small = join(dir, 'some-bad.json');
    writeFileSync(small, JSON.stringify({ items: [{ title: 'a', date: '2020-01-01' }, { title: 'b', date: 'May 23' }, { title: 'c', date: '2020-01-03' }] }));
    try {
      const { code, stderr } = await startLoader([small, '--url', service.baseUrl]).done;
      expect(code, stderr).to.equal(3);
      const rejected = readFileSync(`${small}.rejected.ndjson`, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
      expect(rejected).to.deep.equal([{ record: 2, field: 'date', message: 'date has no year', item: { title: 'b', date: 'May 23' } }]);
      expect(rows()).to.equal(2);
    } finally {
      await service.stop();
    }
  });

  it('fails on a malformed file before sending anything, naming the line or the byte', async function () {
    const { service, rows } = await freshService();
    const ndjson = join(dir, 'broken.ndjson');
    const json = join(dir, 'broken.json');
    writeFileSync(ndjson, '{"title":"a","date":"2020-01-01"}\n{"title":"b","date":"2020-01-02"}\n{"title": "c", "date":\n');
    writeFileSync(json, '[{"title":"a","date":"2020-01-01"},\n {"title":"b",,"date":"2020-01-02"}]');
    try {
      const brokenLines = await startLoader([ndjson, '--url', service.baseUrl]).done;
      expect(brokenLines.code).to.equal(1);
      expect(brokenLines.stderr).to.contain(`${ndjson}: line 3 is not JSON`);
      const brokenJson = await startLoader([json, '--url', service.baseUrl]).done;
      expect(brokenJson.code).to.equal(1);
      expect(brokenJson.stderr).to.contain(`${json}: malformed JSON at line 2, column 15 (byte 50)`);
      expect(rows()).to.equal(0);
    } finally {
      await service.stop();
    }
  });

  it('refuses a URL that is none, carries a password, or would carry a token in the clear, or a file it cannot read, at once and plainly (it retried for half a minute, or crashed)', async function () {
    const badUrl = await startLoader([file, '--url', 'localhost:8000']).done;
    expect(badUrl.code).to.equal(78);
    expect(badUrl.stderr).to.match(/--url must be the service's http\(s\) URL/);
    // fetch refuses a URL with credentials: it was retried six times, its password printed each time.
    const withPassword = await startLoader([file, '--url', 'http://loader:s3cret@127.0.0.1:9']).done;
    expect(withPassword.code, withPassword.stderr).to.equal(78);
    expect(withPassword.stderr).to.contain('--url must not carry a user or password').and.not.to.contain('s3cret');
    // A token goes over plain http only to this machine or a cluster Service: it was sent in the clear anywhere.
    const clear = await startLoader([file, '--url', 'http://records.example.org', '--token', 'secret-token']).done;
    expect(clear.code, clear.stderr).to.equal(78);
    expect(clear.stderr).to.contain('would carry the token in the clear').and.not.to.contain('secret-token');
    const missing = await startLoader([join(dir, 'no-such-file.ndjson'), '--url', 'http://127.0.0.1:9']).done;
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.contain('cannot read').and.not.to.match(/\n\s+at /);
    // In a folder that is not there, the input is named, not the lock beside its rejects file.
    const nowhere = join(dir, 'no-such-folder', 'records.ndjson');
    const elsewhere = await startLoader([nowhere, '--url', 'http://127.0.0.1:9']).done;
    expect(elsewhere.code).to.equal(1);
    expect(elsewhere.stderr).to.contain(`cannot read ${nowhere}: ENOENT`).and.not.to.contain('.lock');
  });

  it('refuses options it does not know, numbers not written as whole numbers, and a rejects file that is the input itself, before touching anything', async function () {
    const misspelt = await startLoader([file, '--url', 'http://127.0.0.1:9', '--chunksize', '10']).done;
    expect(misspelt.code, misspelt.stderr).to.equal(78);
    expect(misspelt.stderr).to.contain("--chunksize").and.to.contain('usage: records load').and.not.to.match(/\n\s+at /);
    // Numbers as a person writes them: 1e3, 0x10 and " 6 " were taken; attempts past 100 wait too long to mean.
    for (const [option, value] of [['--chunk-size', '1e3'], ['--attempts', '0x10'], ['--timeout', ' 60 '], ['--attempts', '101']]) {
      const odd = await startLoader([file, '--url', 'http://127.0.0.1:9', option as string, value as string]).done;
      expect(odd.code, `${option} ${value}: ${odd.stderr}`).to.equal(78);
    }
    // It opened the input as its rejects file, emptying it, and removed it once nothing was rejected.
    const copy = join(dir, 'own-rejects.ndjson');
    writeFileSync(copy, readFileSync(file));
    for (const rejects of [copy, join(dir, '.', 'own-rejects.ndjson'), join(dir, '..', dir.split('/').at(-1)!, 'own-rejects.ndjson')]) {
      const same = await startLoader([copy, '--url', 'http://127.0.0.1:9', '--rejects', rejects]).done;
      expect(same.code, same.stderr).to.equal(78);
      expect(same.stderr).to.contain('--rejects names the input file');
      expect(readFileSync(copy).equals(readFileSync(file)), rejects).to.equal(true);
    }
  });

  it('stops at an answer that is not the bulk endpoint\'s, without retrying it (it crashed, or retried an HTML page for half a minute)', async function () {
    for (const [type, body] of [['application/json', '{}'], ['text/html', '<html>not the records service</html>']]) {
      let requests = 0;
      const server = createServer((_req, res) => {
        requests += 1;
        res.writeHead(200, { 'content-type': type }).end(body);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        const { code, stderr } = await startLoader([file, '--url', url, '--rejects', join(dir, 'not-bulk.rejected.ndjson')]).done;
        expect(code, stderr).to.equal(1);
        expect(stderr).to.contain('is not an answer of POST /v1/bulk').and.not.to.match(/\n\s+at /);
        expect(requests, type).to.equal(1);
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        rmSync(join(dir, 'not-bulk.rejected.ndjson.load-state.json'), { force: true });
      }
    }
  });

  it('make load never prints the token (make echoed the command line, --token and all)', function () {
    const token = 'a-token-that-must-not-be-printed';
    const result = spawnSync('make', ['--no-print-directory', 'load', `FILE=${join(dir, 'no-such-file.ndjson')}`, 'URL=http://127.0.0.1:9', `TOKEN=${token}`], { encoding: 'utf8' });
    expect(result.stderr).to.contain('cannot read');
    expect(result.stdout + result.stderr).not.to.contain(token);
  });

  it('refuses to resume an unfinished load with another --chunk-size or an edited file (either stored every record again)', async function () {
    const { service, rows } = await freshService();
    const copy = join(dir, 'resumed.ndjson');
    writeFileSync(copy, readFileSync(file));
    try {
      const unfinished = await startLoader([copy, '--url', 'http://127.0.0.1:9', '--chunk-size', CHUNK, '--attempts', '1']).done;
      expect(unfinished.code, unfinished.stderr).to.equal(1);
      const otherSize = await startLoader([copy, '--url', service.baseUrl, '--chunk-size', '1000']).done;
      expect(otherSize.code).to.equal(1);
      expect(otherSize.stderr).to.contain(`used --chunk-size ${CHUNK}: run it again with that size`);
      appendFileSync(copy, `${JSON.stringify({ title: 'one more', date: '2020-01-01' })}\n`);
      const edited = await startLoader([copy, '--url', service.baseUrl, '--chunk-size', CHUNK]).done;
      expect(edited.code).to.equal(1);
      expect(edited.stderr).to.contain('the file changed since an unfinished earlier load');
      expect(rows()).to.equal(0);
      // Deleting the state is starting a new load on purpose; a finished load leaves none.
      rmSync(`${copy}.rejected.ndjson.load-state.json`);
      const fresh = await startLoader([copy, '--url', service.baseUrl, '--chunk-size', CHUNK]).done;
      expect(fresh.code, fresh.stderr).to.equal(0);
      expect(rows()).to.equal(RECORDS + 1);
      expect(existsSync(`${copy}.rejected.ndjson.load-state.json`)).to.equal(false);
    } finally {
      await service.stop();
    }
  });

  it('refuses a state file that says nothing sure (it decides which chunks are never sent)', async function () {
    const input = join(dir, 'bad-state.ndjson');
    writeFileSync(input, readFileSync(file));
    for (const state of ['{"digest": "x", "chunkSize": 100, "sent": {"chunks": "all"}}', '{"digest": "x", "chunkSize": 100, "sent": {"chunks": 3', 'null']) {
      writeFileSync(`${input}.rejected.ndjson.load-state.json`, state);
      const run = await startLoader([input, '--url', 'http://127.0.0.1:9', '--chunk-size', CHUNK, '--attempts', '1']).done;
      expect(run.code, state).to.equal(1);
      expect(run.stderr, state).to.contain("is not a load's state (edited, or cut short); delete it to start the load anew");
    }
  });

  it('keeps the state of each load with its own rejects file, so two files of one name do not refuse each other (their state shared one name)', async function () {
    const { service, rows } = await freshService();
    const [first, second, out] = ['a', 'b', 'out'].map((name) => join(dir, `same-name-${name}`));
    for (const folder of [first, second, out]) mkdirSync(folder!, { recursive: true });
    writeFileSync(join(first!, 'data.ndjson'), readFileSync(file));
    writeFileSync(join(second!, 'data.ndjson'), `${JSON.stringify({ title: 'the other file', date: '2020-01-01' })}\n`);
    try {
      const unfinished = await startLoader([join(first!, 'data.ndjson'), '--url', 'http://127.0.0.1:9', '--rejects', join(out!, 'a.rejected.ndjson'), '--attempts', '1']).done;
      expect(unfinished.code, unfinished.stderr).to.equal(1);
      const other = await startLoader([join(second!, 'data.ndjson'), '--url', service.baseUrl, '--rejects', join(out!, 'b.rejected.ndjson')]).done;
      expect(other.code, other.stderr).to.equal(0);
      expect(rows()).to.equal(1);
      expect(existsSync(join(out!, 'a.rejected.ndjson.load-state.json'))).to.equal(true);
      // The unfinished load still holds its own state: resumed with another size, it is refused.
      const otherSize = await startLoader([join(first!, 'data.ndjson'), '--url', service.baseUrl, '--rejects', join(out!, 'a.rejected.ndjson'), '--chunk-size', '1000']).done;
      expect(otherSize.code).to.equal(1);
      expect(otherSize.stderr).to.contain('used --chunk-size 100: run it again with that size');
    } finally {
      await service.stop();
    }
  });
});
