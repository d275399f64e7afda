import Router from '@koa/router';
import type { Middleware } from 'koa';
import { requireScope } from '../auth/authenticate.js';
import { SCOPES } from '../auth/principal.js';
import type { RecordsService } from '../domain/records-service.js';
import { InvalidInput, NotFound } from '../domain/errors.js';
import { readJsonBody } from './json-body.js';
import { ndjsonLines } from './ndjson-body.js';


function atomicFlag(value: unknown): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new InvalidInput('The query parameters are not valid.', [{ parameter: 'atomic', detail: 'must be true or false' }]);
}

/** HTTP for the records API: translate requests to use-case calls and results to responses. */
export function createRecordsRouter({
  records,
  bodyLimit,
  ndjsonLimits,
  authenticate,
}: {
  records: RecordsService;
  bodyLimit: number;
  /** Limits of the NDJSON stream (whole body, one line); without them NDJSON is not accepted. */
  ndjsonLimits?: { body: number; line: number };
  authenticate: Middleware;
}): Router {
  const router = new Router({ prefix: '/v1' });
  const read = [authenticate, requireScope(SCOPES.read)];
  const write = [authenticate, requireScope(SCOPES.write)];

  router.post('/bulk', ...write, async (ctx) => {
    const unknown = Object.keys(ctx.query).filter((name) => name !== 'atomic');
    if (unknown.length > 0) {
      throw new InvalidInput('The query parameters are not valid.', unknown.map((parameter) => ({ parameter, detail: 'unknown parameter' })));
    }
    const atomic = atomicFlag(ctx.query.atomic);
    if (ndjsonLimits && ctx.request.is('application/x-ndjson')) {
      const lines = ndjsonLines(ctx, { limit: ndjsonLimits.body, maxLineBytes: ndjsonLimits.line });
      ctx.body = await records.bulkInsertStream(lines, { atomic });
      return;
    }
    const body = await readJsonBody(ctx, bodyLimit);
    ctx.body = await records.bulkInsert(body, { atomic });
  });

  router.get('/', ...read, async (ctx) => {
    const { value, cache } = await records.search(ctx.query);
    ctx.set('X-Cache', cache);
    ctx.type = 'application/json';
    ctx.body = value;
  });

  router.get('/:id', ...read, async (ctx) => {
    const { value, cache } = await records.getById(ctx.params.id ?? '');
    ctx.set('X-Cache', cache);
    if (value === null) throw new NotFound(`No record has id ${ctx.params.id}.`);
    ctx.type = 'application/json';
    ctx.body = value;
  });

  return router;
}
