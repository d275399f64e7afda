import Router from '@koa/router';
import type { RecordsService } from '../domain/records-service.js';
import { InvalidInput } from '../domain/errors.js';
import { readJsonBody } from './json-body.js';

function atomicFlag(value: unknown): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new InvalidInput('The query parameters are not valid.', [{ parameter: 'atomic', detail: 'must be true or false' }]);
}

/** HTTP for the records API: translate requests to use-case calls and results to responses. */
export function createRecordsRouter({ records, bodyLimit }: { records: RecordsService; bodyLimit: number }): Router {
  const router = new Router({ prefix: '/v1' });

  router.post('/bulk', async (ctx) => {
    const unknown = Object.keys(ctx.query).filter((name) => name !== 'atomic');
    if (unknown.length > 0) {
      throw new InvalidInput('The query parameters are not valid.', unknown.map((parameter) => ({ parameter, detail: 'unknown parameter' })));
    }
    const atomic = atomicFlag(ctx.query.atomic);
    const body = await readJsonBody(ctx, bodyLimit);
    ctx.body = await records.bulkInsert(body, { atomic });
  });

  router.get('/', async (ctx) => {
    ctx.body = await records.search(ctx.query);
  });

  router.get('/:id', async (ctx) => {
    ctx.body = await records.getById(ctx.params.id ?? '');
  });

  return router;
}
