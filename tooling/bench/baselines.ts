import { parseRecordDate } from '../../service/src/api/domain/dates.js';
import { foldText, foldUri } from '../../service/src/api/domain/text.js';

// A raw node:http server answering GET /:id from Redis or MySQL: the floor the service is compared
// with. RAW_FRAMEWORK=koa puts the same handler behind Koa 3 and @koa/router, and nothing else:
// Koa's floor, so the service's own cost reads apart from the framework's.
export const RAW_SERVER = `
  import { createServer } from 'node:http';
  const mode = process.env.RAW_MODE;
  let get;
  if (mode === 'redis') {
    const { Redis } = await import('ioredis');
    const redis = new Redis(process.env.REDIS_URL);
    get = (path) => redis.get(process.env.KEY_PREFIX + 'record:' + path.slice(4));
  } else {
    const mysql = await import('mysql2/promise');
    const pool = mysql.createPool({ uri: process.env.DATABASE_URL, connectionLimit: 10 });
    const view = (r) => ({ id: r.id, title: r.title, uri: r.uri, date: new Date(Number(r.date_ms)).toISOString(), rawDate: r.date_raw });
    get = async (path) => {
      // /range/AFTER_MS/BEFORE_MS: one page of a date-range search, shaped as the service's.
      const range = path.startsWith('/range/') ? path.split('/') : null;
      if (range) {
        const [rows] = await pool.execute(
          'select id, title, uri, date_ms, date_raw from records where date_ms >= ? and date_ms < ? order by date_ms, id limit 101',
          [range[2], range[3]],
        );
        return JSON.stringify({ items: rows.slice(0, 100).map(view), next: rows.length > 100 ? 'more' : null });
      }
      const [rows] = await pool.execute('select id, title, uri, date_ms, date_raw from records where id = ?', [path.slice(4)]);
      return rows[0] ? JSON.stringify(view(rows[0])) : null;
    };
  }
  if (process.env.RAW_FRAMEWORK === 'koa') {
    const { default: Koa } = await import('koa');
    const { default: Router } = await import('@koa/router');
    const router = new Router();
    router.get('/healthz', (ctx) => { ctx.body = 'ok'; });
    router.get('/v1/:id', async (ctx) => {
      const body = await get(ctx.path);
      ctx.status = body ? 200 : 404;
      ctx.type = 'application/json';
      ctx.body = body ?? '';
    });
    new Koa().use(router.routes()).listen(Number(process.env.PORT), '127.0.0.1');
  } else {
    createServer(async (req, res) => {
      if (req.url === '/healthz') return res.end('ok');
      const body = await get(req.url);
      res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' }).end(body ?? '');
    }).listen(Number(process.env.PORT), '127.0.0.1');
  }
`;


/** Column values for mysql2, as the service stores them. */
export function rowsFor(records: Array<{ title: string | null; uri: string | null; date: unknown }>): unknown[][] {
  return records.map((record) => {
    const date = parseRecordDate(String(record.date));
    return [record.title, record.uri, date.ok ? date.ms : 0, String(record.date), foldText(record.title ?? ''), foldUri(record.uri ?? '')];
  });
}
