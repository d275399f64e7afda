import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { expect } from 'chai';
import { alternating, fourWriters, load, pacedWriter, stopChild, type BatchWriter } from '../../../tooling/bench/harness.js';
import { recordStream } from '../../../tooling/bench/record-stream.js';

/** A batch writer over `count` batches whose writes `outcome` decides; `written` is what done was told. */
function writer(count: number, outcome: (batch: number) => Promise<unknown> = async () => undefined) {
  const calls: number[] = [];
  const result: BatchWriter & { calls: number[]; written?: number } = {
    count,
    calls,
    write: (batch) => {
      calls.push(batch);
      return outcome(batch);
    },
    done: (written) => void (result.written = written),
  };
  return result;
}

describe('make bench harness (tooling/bench)', function () {
  this.timeout(30_000);

  describe('alternating', function () {
    it('runs in order in odd rounds and reversed in even ones, answering in the given order', async function () {
      for (const [round, expected] of [[1, ['a', 'b', 'c']], [2, ['c', 'b', 'a']]] as const) {
        const ran: string[] = [];
        const run = (name: string) => async () => (ran.push(name), name.toUpperCase());
        expect(await alternating(round, [run('a'), run('b'), run('c')])).to.deep.equal(['A', 'B', 'C']);
        expect(ran).to.deep.equal(expected);
      }
    });
  });

  describe('recordStream', function () {
    it('hands out each record once, and records given back first, in order', function () {
      const stream = recordStream(42);
      const first = stream.batches(2, 3);
      expect(stream.taken()).to.equal(6);
      stream.giveBack((first[1] ?? []).flat());
      expect(stream.taken()).to.equal(3);
      const again = [...stream.take(5)];
      expect(again.slice(0, 3)).to.deep.equal(first[1]);
      const distinct = new Set([...(first[0] ?? []), ...again].map((record) => JSON.stringify(record)));
      expect(distinct.size, 'distinct records').to.equal(8);
      expect(stream.taken()).to.equal(8);
    });
  });

  describe('fourWriters', function () {
    it('stops when its batches run out and says how many it wrote', async function () {
      const batches = writer(12);
      const rate = await fourWriters(batches);
      expect(batches.calls.sort((a, b) => a - b)).to.deep.equal([...Array(12).keys()]);
      expect(batches.written).to.equal(12);
      expect(rate).to.be.greaterThan(0);
    });

    it('fails with a failed write', async function () {
      const batches = writer(12, async (batch) => {
        if (batch === 5) throw new Error('answered 503');
      });
      let failure: unknown;
      await fourWriters(batches).catch((error: unknown) => (failure = error));
      expect(String(failure)).to.contain('answered 503');
      // The writers in flight finish; none starts after the failure.
      expect(batches.calls.length).to.be.at.most(5 + 4);
      expect(batches.written).to.equal(batches.calls.length);
    });
  });

  describe('pacedWriter', function () {
    it('fails with a failed write, and still says how many it wrote', async function () {
      const batches = writer(20, async (batch) => {
        if (batch === 2) throw new Error('answered 500');
      });
      let failure: unknown;
      await pacedWriter(1000, 10_000, batches).catch((error: unknown) => (failure = error));
      expect(String(failure)).to.contain('answered 500');
      expect(batches.written).to.be.a('number').and.to.be.lessThan(batches.calls.length);
    });

    it('refuses to run out of batches', async function () {
      let failure: unknown;
      await pacedWriter(1000, 10_000, writer(3)).catch((error: unknown) => (failure = error));
      expect(String(failure)).to.contain('needs more');
    });
  });

  describe('load', function () {
    let server: Server;
    let url: string;
    before(async function () {
      server = createServer((request, response) => {
        response.writeHead(request.url === '/v1/2' ? 503 : 200).end('{}');
      }).listen(0, '127.0.0.1');
      await once(server, 'listening');
      url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    });
    after(() => server.close());

    it('measures a run where every request succeeds', async function () {
      const figure = await load(url, ['/v1/1'], 1);
      expect(figure.rps).to.be.greaterThan(0);
    });

    it('refuses a run with failed requests: they would count as work', async function () {
      let failure: unknown;
      await load(url, ['/v1/1', '/v1/2'], 1).catch((error: unknown) => (failure = error));
      expect(String(failure)).to.match(/requests against .* failed \(\d+ not 2xx/);
    });
  });

  describe('stopChild', function () {
    it('returns at once for a child that has already exited', async function () {
      const child = spawn(process.execPath, ['-e', '0']);
      await once(child, 'exit');
      child.kill = () => expect.fail('signalled a child that had exited');
      await stopChild(child);
      expect(child.listenerCount('exit'), 'no wait left behind for an exit that already happened').to.equal(0);
    });
  });
});
