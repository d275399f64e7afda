import type { IncomingMessage } from 'node:http';
import { Abandoned } from '../domain/errors.js';
import { HttpProblem } from './problem.js';

/** Waiting allowed before the minimum rate applies: a connection's first bytes may be slow to come. */
const GRACE_MS = 5000;
/** The longest a Node timer waits; a longer one fires after 1 ms (a low rate allows far longer). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The request body's chunks, refusing a sender slower than `minBytesPerSecond`: a trickled body
 * would otherwise hold a bulk slot (and, for a stream, a transaction) until the request timeout.
 * Only time spent waiting for the client counts, not time the caller spends on each chunk, so a
 * slow database never looks like a slow client. Past the allowance: 408, connection closed. A
 * connection closed mid-body ends the request as Abandoned (408, never sent).
 */
export async function* bodyChunks(request: IncomingMessage, minBytesPerSecond: number): AsyncGenerator<Buffer> {
  // Not destroyed when the caller stops early (an answer given mid-body): the rest of the body is
  // then read and discarded (lingering-close.ts), which needs this iterator's listener gone. Not
  // awaited: behind a read still waiting for a slow client, the return waits for that read.
  const chunks = request.iterator({ destroyOnReturn: false }) as AsyncIterator<Buffer>;
  try {
    yield* timed(chunks, minBytesPerSecond);
  } finally {
    chunks.return?.().catch(() => undefined);
  }
}

async function* timed(chunks: AsyncIterator<Buffer>, minBytesPerSecond: number): AsyncGenerator<Buffer> {
  let received = 0;
  let waited = 0;
  for (;;) {
    const allowance = GRACE_MS + (received / minBytesPerSecond) * 1000 - waited;
    const started = Date.now();
    const next = chunks.next();
    // Abandoned when the sender is too slow: its rejection, when the socket closes, is expected.
    next.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), Math.min(MAX_TIMER_MS, Math.max(0, allowance)))));
    const result = await Promise.race([next, late])
      .catch((error: unknown) => {
        // The connection closed in the middle of the body (the client left, or the request timed
        // out): nobody is left to answer, and it is no failure of the service's.
        throw new Abandoned('The connection closed before the body was read whole; nothing was stored.', [], {}, { cause: error });
      })
      .finally(() => clearTimeout(timer));
    waited += Date.now() - started;
    if (result === 'late') {
      throw new HttpProblem(408, 'body-too-slow', `The body arrived slower than ${minBytesPerSecond} bytes per second; nothing was stored.`, [], { Connection: 'close' });
    }
    if (result.done) return;
    received += result.value.length;
    yield result.value;
  }
}
