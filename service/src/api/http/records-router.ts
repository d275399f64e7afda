import type Router from '@koa/router';
import { createRouter } from './router.js';
import type { Context, Middleware } from 'koa';
import { requireScope } from './authenticate.js';
import { SCOPES } from '../auth/principal.js';
import type { RecordsCache } from '../cache/records-cache.js';
import { InvalidInput, NotFound } from '../domain/errors.js';
import type { RecordsService } from '../domain/records-service.js';
import { annotateSpan } from '../observability/traces.js';
import { callerLimit } from './caller-limit.js';
import { HttpProblem } from './problem.js';
import { concurrencyLimit } from './concurrency-limit.js';
import { bulkMediaOf, type BulkMedia } from './body-media.js';
import { idempotencyOf } from './idempotency-key.js';
import { readJsonBody } from './json-body.js';
import { ndjsonChunks } from './ndjson-body.js';
import { parseRecordId, parseSearchQuery } from './search-params.js';
import { recordDocument, searchDocument } from './views.js';

/** Aborts when the client goes away before its response is sent: the search it asked for stops. */
function whileConnected(ctx: Context): AbortSignal {
  const controller = new AbortController();
  // Gone already (its 'close' has passed): nothing is waiting for this answer.
  if (ctx.req.socket.destroyed) controller.abort();
  ctx.res.once('close', () => {
    if (!ctx.res.writableFinished) controller.abort();
  });
  return controller.signal;
}

function atomicFlag(query: Record<string, unknown>): boolean {
  const unknown = Object.keys(query).filter((name) => name !== 'atomic');
  if (unknown.length > 0) throw new InvalidInput('The query parameters are not valid.', unknown.map((parameter) => ({ parameter, detail: 'unknown parameter' })));
  if (query.atomic === undefined || query.atomic === 'false') return false;
  if (query.atomic === 'true') return true;
  throw new InvalidInput('The query parameters are not valid.', [{ parameter: 'atomic', detail: 'must be true or false' }]);
}

/**
 * HTTP for the records API: requests to use-case calls, results to responses. The response cache
 * sits here, in front of the domain, for reads and invalidation alike: reads go through it (it
 * holds the documents themselves, so a hit is sent without re-encoding; X-Cache says whether it
 * was a hit, a miss or bypassed), and a committed write that stored something makes it stale.
 */
export function createRecordsRouter({
  records,
  cache,
  bodyLimit,
  bodyRate,
  ndjsonLimits,
  authenticate,
  idempotencyTtlMs,
  bulkConcurrency,
  searchesPerCaller,
}: {
  records: RecordsService;
  cache: Pick<RecordsCache, 'getRecord' | 'search' | 'afterWrite'>;
  bodyLimit: number;
  /** The slowest a bulk body may arrive, in bytes per second (after a short grace). */
  bodyRate: number;
  /** Limits of the NDJSON stream (whole body, one line); without them NDJSON is not accepted. */
  ndjsonLimits?: { body: number; line: number };
  authenticate: Middleware;
  idempotencyTtlMs: number;
  /** Bulk requests processed at once by this process; more wait their turn. */
  bulkConcurrency: number;
  /** Searches one caller may run at once on this process; more are answered 429. */
  searchesPerCaller: number;
}): Router {
  const router = createRouter({ prefix: '/v1' });
  const read = [authenticate, requireScope(SCOPES.read)];
  const write = [authenticate, requireScope(SCOPES.write)];

  const bulkMedia: BulkMedia[] = ndjsonLimits ? ['application/json', 'application/x-ndjson'] : ['application/json'];
  // Only POST is served here: GET /v1/bulk was read as a record id (400), and the Allow of a 405
  // named the methods of /v1/:id.
  router.all('/bulk', async (ctx, next) => {
    if (ctx.method === 'POST') return next();
    ctx.set('Allow', 'POST');
    if (ctx.method !== 'OPTIONS') throw new HttpProblem(405, 'method-not-allowed', `${ctx.method} ${ctx.path} is not served here.`);
    ctx.body = '';
  });

  router.post('/bulk', ...write, concurrencyLimit(bulkConcurrency), async (ctx) => {
    const atomic = atomicFlag(ctx.query);
    const media = bulkMediaOf(ctx, bulkMedia);
    const key = idempotencyOf(ctx, { atomic, media, ttlMs: idempotencyTtlMs });
    const options = { atomic, idempotency: key?.request ?? null };
    const ndjson = ndjsonLimits && media === 'application/x-ndjson' ? ndjsonLimits : null;
    const outcome = ndjson
      ? await records.storeStream(ndjsonChunks(ctx, { limit: ndjson.body, minBytesPerSecond: bodyRate, digest: key?.digest }), { ...options, maxLineBytes: ndjson.line, declaredBytes: ctx.request.length ?? null })
        : await readJsonBody(ctx, bodyLimit, bodyRate).then((document) => {
            key?.digest.update(document);
            key?.digest.end();
            return records.storeItems(document, options);
          });
    // The write has committed: the cached reads it made stale go before the writer hears back.
    if (!outcome.replayed && outcome.value.inserted > 0) await cache.afterWrite();
    if (outcome.replayed) ctx.set('Idempotent-Replayed', 'true');
    annotateSpan({ 'records.bulk.inserted': outcome.value.inserted, 'records.idempotent_replay': outcome.replayed });
    ctx.body = outcome.value;
  });

  const searchSlot = callerLimit(searchesPerCaller);

  router.get('/', ...read, async (ctx) => {
    const query = parseSearchQuery(ctx.query, ctx.querystring);
    const { value, cache: outcome } = await cache.search(query, async (signal) => searchDocument(await records.search(query, signal), query), {
      signal: whileConnected(ctx),
      admit: () => searchSlot(ctx.state.principal),
    });
    ctx.set('X-Cache', outcome);
    annotateSpan({ 'records.cache': outcome });
    ctx.type = 'application/json';
    ctx.body = value;
  });

  router.get('/:id', ...read, async (ctx) => {
    const id = parseRecordId(ctx.params.id ?? '');
    const { value, cache: outcome } = await cache.getRecord(id, async () => {
      const record = await records.findRecord(id);
      return record ? recordDocument(record) : null;
    });
    ctx.set('X-Cache', outcome);
    annotateSpan({ 'records.cache': outcome });
    if (value === null) throw new NotFound(`No record has id ${ctx.params.id}.`);
    ctx.type = 'application/json';
    ctx.body = value;
  });

  return router;
}
