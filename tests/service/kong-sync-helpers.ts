import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse } from 'yaml';

export const BASE = `_format_version: "3.0"
services:
  - name: records
    url: http://records.records.svc.cluster.local:8000
consumers: []
`;

const configHash = (config: string) => createHash('sha256').update(config).digest('hex');

/** Kong's DB-less Admin API as far as the sync uses it: POST /config replaces, GET /status hashes. */
export class StandInKong {
  config = BASE;
  loads = 0;
  server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/status') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ configuration_hash: configHash(this.config) }));
      if (req.method === 'POST' && req.url === '/config') {
        this.config = JSON.parse(body).config;
        this.loads += 1;
        return res.writeHead(201, { 'content-type': 'application/json' }).end('{}');
      }
      res.writeHead(404).end();
    });
  });
  get url() {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  kids(consumer: string): string[] {
    const parsed = parse(this.config) as { consumers?: Array<{ username: string; jwt_secrets: Array<{ key: string }> }> };
    return (parsed.consumers ?? []).find((candidate) => candidate.username === consumer)?.jwt_secrets.map((secret) => secret.key).sort() ?? [];
  }
  async start() {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }
  async stop() {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
