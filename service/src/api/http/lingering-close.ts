import type { IncomingMessage, ServerResponse } from 'node:http';
import { finished } from 'node:stream/promises';

/** How long, and how much of the rest of a body, is read and thrown away after an early answer. */
const LINGER_MS = 5000;
const LINGER_BYTES = 16 * 1024 * 1024;

/**
 * For an answer given before the request's body was read whole (a database failure in the middle
 * of a load, a refusal before reading). Closing at once resets the connection while the client is
 * still sending, and a reset can fail its request before it reads the answer, or lose the answer
 * in its kernel. So, as web servers' lingering close does, once the answer is sent the rest of the
 * body is read and discarded: the connection is kept if the body ends within LINGER_MS and
 * LINGER_BYTES, and closed otherwise.
 */
export function lingerAfterAnswer(request: IncomingMessage, response: ServerResponse): void {
  void finished(response).then(() => {
    if (request.complete || request.destroyed) return;
    let discarded = 0;
    const close = () => request.socket.destroy();
    const timer = setTimeout(close, LINGER_MS);
    request.on('data', (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > LINGER_BYTES) close();
    });
    request.once('end', () => clearTimeout(timer));
    request.once('close', () => clearTimeout(timer));
    request.resume();
  }, () => {
    // An answer that never finished (its socket went first) leaves nothing to linger on.
  });
}
