import { createHash } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse } from 'yaml';

export const BASE = `_format_version: "3.0"
services:
  - name: records
    url: http://records.records.svc.cluster.local:8000
consumers: []
`;

const configHash = (config: string) => createHash('sha256').update(config).digest('hex');

/**
 * The project's model of Kong's DB-less Admin API as far as the sync uses it (Kong cannot run
 * here): POST /config replaces, GET /status hashes, GET /consumers/{username}/jwt lists a
 * consumer's credentials a page at a time (`size`, then `next` naming the following page; 404 for
 * an unknown consumer).
 */
export class StandInKong {
  config = BASE;
  loads = 0;
  server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/status') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ configuration_hash: configHash(this.config) }));
      const credentials = /^\/consumers\/([^/?]+)\/jwt(\?.*)?$/.exec(req.url ?? '');
      if (req.method === 'GET' && credentials) return this.listJwtSecrets(res, decodeURIComponent(credentials[1] ?? ''), new URLSearchParams(credentials[2] ?? ''));
      if (req.method === 'POST' && req.url === '/config') {
        this.config = JSON.parse(body).config;
        this.loads += 1;
        return res.writeHead(201, { 'content-type': 'application/json' }).end('{}');
      }
      res.writeHead(404).end();
    });
  });
  private listJwtSecrets(res: ServerResponse, username: string, query: URLSearchParams) {
    const parsed = parse(this.config) as { consumers?: Array<{ username: string; jwt_secrets?: object[] }> };
    const consumer = (parsed.consumers ?? []).find((candidate) => candidate.username === username);
    if (!consumer) return res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Not found"}');
    const size = Number(query.get('size') ?? 100);
    const offset = Number(query.get('offset') ?? 0);
    const secrets = consumer.jwt_secrets ?? [];
    const data = secrets.slice(offset, offset + size).map((secret) => ({ ...secret, consumer: { id: username } }));
    const next = offset + size < secrets.length ? `/consumers/${encodeURIComponent(username)}/jwt?offset=${offset + size}&size=${size}` : null;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data, next }));
  }
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
