import { createHash } from 'node:crypto';
import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { IdempotencyRequest } from '../domain/idempotency.js';
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

const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{1,128}$/;

/** The Idempotency-Key of a write, scoped to the authenticated caller; null without the header. */
function idempotencyOf(ctx: Context, ttlMs: number, requestHash: () => string): IdempotencyRequest | null {
  const key = ctx.get('idempotency-key');
  if (key === '') return null;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new InvalidInput('The Idempotency-Key header is not valid.', [
      { parameter: 'Idempotency-Key', detail: 'must be 1 to 128 characters of letters, digits, ".", "_", ":" or "-"' },
    ]);
  }
  const principal = ctx.state.principal;
  const scope = createHash('sha256').update(`${principal?.issuer ?? ''}\0${principal?.subject ?? ''}`).digest('hex');
  return { key, scope, ttlMs, requestHash };
}

/**
 * The digest of what decides a bulk request's outcome: the mode, the media type and the exact
 * bytes (fed to `hash` as the body is read). `requestHash` finishes it once, when first asked.
 */
function bulkRequestDigest(atomic: boolean, mediaType: string) {
  const hash = createHash('sha256').update(`${atomic}\0${mediaType}\0`);
  let hex: string | null = null;
  return { hash, requestHash: () => (hex ??= hash.digest('hex')) };
}

/** HTTP for the records API: translate requests to use-case calls and results to responses. */
export function createRecordsRouter({
  records,
  bodyLimit,
  ndjsonLimits,
  authenticate,
  idempotencyTtlMs = 86_400_000,
}: {
  records: RecordsService;
  bodyLimit: number;
  /** Limits of the NDJSON stream (whole body, one line); without them NDJSON is not accepted. */
  ndjsonLimits?: { body: number; line: number };
  authenticate: Middleware;
  idempotencyTtlMs?: number;
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
    const { hash: digest, requestHash } = bulkRequestDigest(atomic, ctx.request.type);
    const idempotency = idempotencyOf(ctx, idempotencyTtlMs, requestHash);
    // Only a request with an Idempotency-Key needs its digest: the body is hashed for those alone.
    const hash = idempotency ? digest : undefined;
    const outcome =
      ndjsonLimits && ctx.request.is('application/x-ndjson')
        ? await records.bulkInsertStream(ndjsonLines(ctx, { limit: ndjsonLimits.body, maxLineBytes: ndjsonLimits.line, hash }), {
            atomic,
            idempotency,
          })
        : await readJsonBody(ctx, bodyLimit).then(({ body, raw }) => {
            hash?.update(createHash('sha256').update(raw).digest('hex'));
            return records.bulkInsert(body, { atomic, idempotency });
          });
    if (outcome.replayed) ctx.set('Idempotent-Replayed', 'true');
    ctx.body = outcome.value;
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
