import { expect } from 'chai';
import Koa from 'koa';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { once } from 'node:events';
import { Unavailable } from '../../../../service/src/api/domain/errors.js';
import { bodyChunks } from '../../../../service/src/api/http/body-chunks.js';
import { problemMiddleware } from '../../../../service/src/api/http/problem.js';
import { createLogger } from '../../../../service/src/shared/logger.js';

/**
 * An answer given in the middle of a body (the database failed during a load) is followed by the
 * rest of the body, read and discarded, so the connection survives for the client's next request.
 */
describe('the lingering close after an answer given mid-body', function () {
  let server: ReturnType<Koa['listen']>;
  let port: number;

  before(async function () {
    const app = new Koa();
    app.use(problemMiddleware({ logger: createLogger({ logLevel: 'silent' }) }));
    app.use(async (ctx) => {
      if (ctx.method === 'GET') {
        ctx.body = { ok: true };
        return;
      }
      // Reads the first chunk, then fails as a load does when its database goes away.
      for await (const chunk of bodyChunks(ctx.req, 1)) {
        void chunk;
        throw new Unavailable('The database went away.');
      }
    });
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());

  /** Collects what the socket receives until `pattern` has been seen, or fails after `ms`. */
  async function until(socket: Socket, received: { text: string }, pattern: RegExp, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pattern.test(received.text)) {
      if (Date.now() > deadline) throw new Error(`not received within ${ms} ms: ${pattern}; got ${JSON.stringify(received.text)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  it('reads the rest of the body and keeps the connection for the next request', async function () {
    this.timeout(10_000);
    const socket = connect(port, '127.0.0.1');
    const failures: Error[] = [];
    socket.on('error', (error) => failures.push(error));
    await once(socket, 'connect');
    const received = { text: '' };
    socket.on('data', (chunk: Buffer) => (received.text += chunk.toString('latin1')));
    const rest = 'x'.repeat(200_000);
    socket.write(`POST /load HTTP/1.1\r\nHost: test\r\nContent-Type: application/x-ndjson\r\nContent-Length: ${10 + rest.length}\r\n\r\n0123456789`);
    await until(socket, received, /HTTP\/1\.1 503/, 2000);
    socket.write(rest);
    socket.write('GET /next HTTP/1.1\r\nHost: test\r\n\r\n');
    await until(socket, received, /\{"ok":true\}/, 2000);
    expect(failures).to.deep.equal([]);
    socket.destroy();
  });
});
