import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../service/src/api/config.js';
import { migrateLatest } from '../../service/src/api/data/migrations/index.js';
import { createLogger } from '../../service/src/shared/logger.js';
import { createRuntime, type Runtime } from '../../service/src/api/runtime.js';
import { listen } from '../../service/src/api/server.js';
import { createTestDatabase, type TestDatabase } from './databases.js';
import type { Engine } from '../../service/src/api/data/database.js';
import { checkAgainstContract } from './contract.js';
import { decodeIds } from '../../service/src/api/data/postings.js';

export type TestApp = {
  baseUrl: string;
  database: TestDatabase;
  runtime: Runtime;
  /** Records whose title contains `tag` (see uniqueTag), counted in the database itself. */
  countTagged(tag: string): Promise<number>;
  /** Ids the search index lists that no record has: a rolled-back write must leave none. */
  orphanPostings(): Promise<number[]>;
  close(): Promise<void>;
};

/**
 * Starts the real service graph on port 0 over a fresh database of the given engine, or over
 * `shared` (another app's database, which then stays owned by that app).
 */
export async function startTestApp(engine: Engine, env: Record<string, string> = {}, shared?: TestDatabase, clock?: { now: () => number }): Promise<TestApp> {
  const database = shared ?? (await createTestDatabase(engine));
  const config = loadConfig({ DATABASE_URL: database.url, LOG_LEVEL: 'silent', AUTH_MODE: 'disabled', ...env });
  const runtime = await createRuntime(config, createLogger(config), clock);
  await migrateLatest(runtime.db.knex);
  const server: Server = await listen(runtime.app, 0, '127.0.0.1', config.requestTimeoutSeconds * 1000);
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    database,
    runtime,
    async countTagged(tag) {
      const [row] = await runtime.db.knex('records').where('title', 'like', `%${tag}%`).count({ n: '*' });
      return Number(row?.n);
    },
    async orphanPostings() {
      const rows = (await runtime.db.knex('title_postings').select('first_id', 'ids')) as Array<{ first_id: number | string; ids: Uint8Array }>;
      const indexed = new Set(rows.flatMap((row) => decodeIds(Number(row.first_id), row.ids)));
      const stored = new Set(((await runtime.db.knex('records').select('id')) as Array<{ id: number | string }>).map((row) => Number(row.id)));
      return [...indexed].filter((id) => !stored.has(id));
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await runtime.close();
      if (!shared) await database.drop();
    },
  };
}

export type JsonResponse = { status: number; headers: Headers; body: any };

export async function request(baseUrl: string, path: string, init: RequestInit = {}): Promise<JsonResponse> {
  const response = await fetch(baseUrl + path, init);
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  const body = /json/.test(type) && text !== '' ? JSON.parse(text) : text;
  // The path fetch really sent: WHATWG URL parsing resolves dot segments (`/v1/.` is `/v1/`).
  const sent = new URL(baseUrl + path);
  checkAgainstContract(init.method ?? 'GET', sent.pathname + sent.search, response.status, response.headers, body);
  return { status: response.status, headers: response.headers, body };
}

export function postJson(baseUrl: string, path: string, body: unknown): Promise<JsonResponse> {
  return request(baseUrl, path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}
