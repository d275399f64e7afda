import { expect } from 'chai';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { bodyChunks } from '../../../../service/src/api/http/body-chunks.js';

async function received(request: Readable, minBytesPerSecond: number): Promise<number> {
  let total = 0;
  for await (const chunk of bodyChunks(request as unknown as IncomingMessage, minBytesPerSecond)) total += chunk.length;
  return total;
}

/** The refusal of slow bodies is proven end to end in tests/service/slow-body.test.ts. */
describe('a bulk body read at a minimum rate', function () {
  it('waits as long as a low rate allows, even past what one timer can hold (2^31 ms)', async function () {
    // At 1 byte per second, 3 MB already received allow 3,000,000 s: Node clamps a longer timer to 1 ms,
    // which refused the next chunk of a fast client (BODY_MIN_BYTES_PER_SECOND=1 is a valid setting).
    async function* body() {
      yield Buffer.alloc(3_000_000);
      await sleep(50);
      yield Buffer.alloc(10);
    }
    expect(await received(Readable.from(body(), { objectMode: true }), 1)).to.equal(3_000_010);
  });
});
