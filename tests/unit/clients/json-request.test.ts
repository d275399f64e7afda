import { expect } from 'chai';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { requestJson } from '../../../service/src/clients/json-request.js';

/** The small JSON client of init-secret and kong-sync: a peer that stops mid-answer fails the request, never hangs it. */
describe('requestJson', function () {
  it('fails when the peer closes the connection in the middle of its answer', async function () {
    this.timeout(5_000);
    const sockets: Socket[] = [];
    const server = createServer((socket) => {
      sockets.push(socket);
      socket.once('data', () => {
        // Headers promising 100 bytes, 10 of them, then a clean close (FIN, not a reset).
        socket.end('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"partial"');
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/keys`);
      const outcome = await Promise.race([
        requestJson({ method: 'GET', url, timeoutMs: 1_000 }).then(
          () => 'answered',
          (error: Error) => error.message,
        ),
        new Promise((resolve) => setTimeout(() => resolve('still pending after 3 s'), 3_000)),
      ]);
      expect(outcome).to.match(/GET \/keys: the answer was cut short/);
    } finally {
      for (const socket of sockets) socket.destroy();
      server.close();
    }
  });
});
