import type { ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { generateRecords } from '../../tooling/generate-records.js';
import { startLoader as startAnyLoader, storedRecords } from '../support/loader-process.js';
import { ServiceProcess } from '../support/service-process.js';
import { waitFor } from '../support/wait.js';

/**
 * What `records load` does while something else touches its load: a second run of it, a run
 * killed holding it, the file written meanwhile. Chunks reach the real service through a gate
 * that holds them until the test opens it, so the loader is caught with a chunk in flight.
 */

/** Every loader started, so that a failed test leaves none waiting at a gate. */
const started: ChildProcess[] = [];
const startLoader = (args: string[]) => {
  const run = startAnyLoader(args);
  started.push(run.child);
  return run;
};

const bodyOf = async (request: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

/**
 * Forwards each request to `target` once `open()` was called; `received` counts what arrived. The
 * answers to the first `losing` requests are lost: stored by the service, never sent back (a
 * gateway or connection that went silent).
 */
async function gate(target: string, { losing = 0 } = {}) {
  let opened!: () => void;
  let isOpen = new Promise<void>((resolve) => (opened = resolve));
  const state = { received: 0, keys: new Map<string, number>() };
  const server: Server = createServer(async (request, response) => {
    const number = ++state.received;
    const key = String(request.headers['idempotency-key']);
    state.keys.set(key, (state.keys.get(key) ?? 0) + 1);
    try {
      const body = await bodyOf(request);
      await isOpen;
      const headers = Object.fromEntries(Object.entries(request.headers).filter(([name]) => ['content-type', 'idempotency-key'].includes(name))) as Record<string, string>;
      const answer = await fetch(new URL(request.url ?? '/', target), { method: request.method, headers, body });
      if (number <= losing) return; // never answered: the loader's --timeout ends it, or close()
      response.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain', 'idempotent-replayed': answer.headers.get('idempotent-replayed') ?? 'false' }).end(Buffer.from(await answer.arrayBuffer()));
    } catch (error) {
      // The loader gone, or the service: a gateway's answer, not an unhandled rejection in another test.
      if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain' });
      response.end(String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    state,
    open: () => opened(),
    close: () => {
      server.closeAllConnections();
      isOpen = Promise.resolve();
      opened();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

const RECORDS = 1000;
const CHUNK = '100';

describe('records load next to other runs and writers', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'records-load-runs-'));
  let service: ServiceProcess;
  const databasePath = join(dir, 'records.sqlite');
  const rows = () => storedRecords(databasePath);
  const writeInput = (name: string, seed: number) => {
    const path = join(dir, name);
    writeFileSync(path, `${Array.from(generateRecords(RECORDS, seed, 0), (record) => JSON.stringify(record)).join('\n')}\n`);
    return path;
  };

  before(async () => {
    service = await ServiceProcess.start({ DATABASE_URL: databasePath }, { compiled: true });
  });
  after(async () => {
    for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await service?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a second run of a load while one runs (both wrote its rejects file and state), and takes over from a run that was killed', async function () {
    const input = writeInput('twice.ndjson', 21);
    const lock = `${input}.rejected.ndjson.lock`;
    const held = await gate(service.baseUrl);
    const before = rows();
    try {
      const first = startLoader([input, '--url', held.url, '--chunk-size', CHUNK]);
      await waitFor('the first chunk held at the gate', async () => held.state.received === 1, 30_000, 20);
      const second = await startLoader([input, '--url', held.url, '--chunk-size', CHUNK]).done;
      expect(second.code, second.stderr).to.equal(1);
      expect(second.stderr).to.contain(`another run (process ${first.child.pid} on`).and.to.contain(`is loading into ${input}.rejected.ndjson`);
      expect(held.state.received, 'requests of the refused run').to.equal(1);
      // Killed with its chunk in flight: its lock names a process that is gone.
      first.child.kill('SIGKILL');
      await first.done;
      expect(existsSync(lock), 'a killed run leaves its lock').to.equal(true);
      held.open();
      const third = await startLoader([input, '--url', held.url, '--chunk-size', CHUNK]).done;
      expect(third.code, third.stderr).to.equal(0);
      expect(rows() - before).to.equal(RECORDS);
      expect(existsSync(lock), 'a finished run removes its lock').to.equal(false);
    } finally {
      await held.close();
    }
  });

  it('sends a chunk again under its key when its answer does not come within --timeout, storing it once (it waited for undici\'s 300 s)', async function () {
    const input = writeInput('silent.ndjson', 23);
    const held = await gate(service.baseUrl, { losing: 1 });
    held.open();
    const before = rows();
    try {
      const { code, stderr } = await startLoader([input, '--url', held.url, '--chunk-size', CHUNK, '--timeout', '2']).done;
      expect(code, stderr).to.equal(0);
      expect(stderr).to.contain('records 1-100: no answer within 2 s; retrying in 1 s');
      expect(stderr, 'the chunk replayed was this run\'s own').not.to.contain('stored by an earlier run');
      const [first, ...others] = [...held.state.keys.values()];
      expect(first, 'requests of the first chunk').to.equal(2);
      expect(others, 'chunks after it').to.have.length(RECORDS / Number(CHUNK) - 1);
      expect(rows() - before).to.equal(RECORDS);
      for (const timeout of ['0', '1.5', '86401']) {
        const refused = await startLoader([input, '--url', held.url, '--timeout', timeout]).done;
        expect(refused.code, refused.stderr).to.equal(78);
        expect(refused.stderr).to.contain(`--timeout must be a whole number of seconds from 1 to 86400; got ${timeout}`);
      }
    } finally {
      await held.close();
    }
  });

  it('stops when the file is written during the load, sending nothing of what it says now under the keys of what it said (and counts as sent only what was answered)', async function () {
    const input = writeInput('edited.ndjson', 22);
    const held = await gate(service.baseUrl);
    const before = rows();
    try {
      const run = startLoader([input, '--url', held.url, '--chunk-size', CHUNK]);
      await waitFor('the first chunk held at the gate', async () => held.state.received === 1, 30_000, 20);
      appendFileSync(input, `${JSON.stringify({ title: 'written during the load', uri: 'https://example.com/late', date: '2020-01-01' })}\n`);
      held.open();
      const { code, stderr } = await run.done;
      expect(code, stderr).to.equal(1);
      expect(stderr).to.contain(`${input} changed during the load, before records 101-200 were sent; nothing more was sent`);
      expect(held.state.received, 'requests').to.equal(1);
      expect(rows() - before).to.equal(Number(CHUNK));
      expect(stderr, 'the last progress line').to.contain(`sent ${CHUNK}/${RECORDS} records, stored ${CHUNK}, rejected 0`);
      expect(stderr).not.to.contain(`sent ${2 * Number(CHUNK)}/`);
      // Run again as it now is: the state still holds the digest the keys were made of.
      const again = await startLoader([input, '--url', held.url, '--chunk-size', CHUNK]).done;
      expect(again.code, again.stderr).to.equal(1);
      expect(again.stderr).to.contain('the file changed since an unfinished earlier load of it');
      expect(readFileSync(input, 'utf8')).to.contain('written during the load');
    } finally {
      await held.close();
    }
  });
});
