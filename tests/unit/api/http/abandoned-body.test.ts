import { expect } from 'chai';
import Koa from 'koa';
import { once } from 'node:events';
import { connect, type AddressInfo } from 'node:net';
import { bodyChunks } from '../../../../service/src/api/http/body-chunks.js';
import { problemMiddleware } from '../../../../service/src/api/http/problem.js';
import { createLogger } from '../../../../service/src/shared/logger.js';

/** A client that goes away in the middle of its body is not a server error: 408 request-abandoned, not 500. */
describe('a body whose client goes away before sending it whole', function () {
  it('ends the request as abandoned (408), logging no error', async function () {
    const statuses: number[] = [];
    const errors: string[] = [];
    const logger = createLogger({ logLevel: 'error' });
    logger.error = ((...args: unknown[]) => void errors.push(JSON.stringify(args))) as typeof logger.error;
    const app = new Koa();
    app.silent = true;
    let done: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    app.use(async (ctx, next) => {
      await next();
      statuses.push(ctx.status);
      done();
    });
    app.use(problemMiddleware({ logger }));
    app.use(async (ctx) => {
      for await (const chunk of bodyChunks(ctx.req, 1)) void chunk;
      ctx.body = { read: true };
    });
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
      await once(socket, 'connect');
      socket.write('POST /load HTTP/1.1\r\nHost: test\r\nContent-Type: application/x-ndjson\r\nContent-Length: 1000\r\n\r\n{"title":');
      await new Promise((resolve) => setTimeout(resolve, 100));
      socket.destroy();
      await finished;
      expect(statuses).to.deep.equal([408]);
      expect(errors).to.deep.equal([]);
    } finally {
      server.close();
    }
  });
});
