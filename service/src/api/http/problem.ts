import { STATUS_CODES } from 'node:http';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import type { FieldError } from '../domain/errors.js';
import { loggableError } from '../observability/loggable-error.js';
import { lingerAfterAnswer } from './lingering-close.js';
import { problemTypeOf } from './problem-types.js';

/** A protocol-level problem (wrong media type, body too large, ...) raised by the HTTP layer. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    detail: string,
    readonly errors: FieldError[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }
}

const PROBLEM_TYPE_BASE = '/problems/';
const ROUTING_SLUGS: Record<number, string> = { 404: 'not-found', 405: 'method-not-allowed', 501: 'not-implemented' };

type Problem = {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
  [extension: string]: unknown;
};

function problemOf(error: unknown): { problem: Problem; headers: Record<string, string>; loggedAtCause?: true } | null {
  const build = (status: number, slug: string, detail: string, errors: FieldError[], extensions = {}) => ({
    problem: {
      ...extensions,
      type: `${PROBLEM_TYPE_BASE}${slug}`,
      title: STATUS_CODES[status] ?? 'Error',
      status,
      detail,
      ...(errors.length > 0 ? { errors } : {}),
    },
    headers: {},
  });
  const known = problemTypeOf(error);
  if (known) {
    const { type, errors, extensions } = known;
    return { ...build(type.status, type.slug, (error as Error).message, errors, extensions), headers: type.headers?.(error as Error) ?? {}, loggedAtCause: type.loggedAtCause };
  }
  if (error instanceof HttpProblem) return { ...build(error.status, error.slug, error.message, error.errors), headers: error.headers };
  // http-errors thrown by Koa and the router (405, 501) carry a status meant to be shown.
  const status = (error as { status?: unknown; expose?: unknown } | null)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500 && (error as { expose?: unknown }).expose === true) {
    const headers = ((error as { headers?: Record<string, string> }).headers ?? {}) as Record<string, string>;
    return { ...build(status, 'http-' + status, (error as Error).message, []), headers };
  }
  return null;
}

/**
 * Mounted first: turns every error into RFC 9457 application/problem+json. Unknown errors are
 * logged with their cause and answered with a bare 500; no stack trace reaches the client.
 */
export function problemMiddleware({ logger }: { logger: Logger }): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      // The router answers unmatched paths and methods with an empty 404 / 405 / 501 (and Allow).
      if (ctx.status >= 400 && (ctx.body === undefined || ctx.body === null)) {
        const slug = ROUTING_SLUGS[ctx.status] ?? `http-${ctx.status}`;
        throw new HttpProblem(ctx.status, slug, `${ctx.method} ${ctx.path} is not served here.`);
      }
    } catch (error) {
      const known = problemOf(error);
      if (known === null || (known.problem.status >= 500 && !known.loggedAtCause)) {
        const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
        logger.error({ err: loggableError(cause), method: ctx.method, path: ctx.path }, 'request failed');
      }
      const { problem, headers } = known ?? {
        problem: {
          type: 'about:blank',
          title: 'Internal Server Error',
          status: 500,
          detail: 'An unexpected error occurred.',
        },
        headers: {},
      };
      ctx.status = problem.status;
      ctx.set(headers);
      // Answered before the body was read whole: the rest of it is read and discarded, briefly
      // (lingering-close.ts), unless the problem closes the connection itself (413, 408).
      const hasBody = Number(ctx.get('content-length') || 0) > 0 || ctx.get('transfer-encoding') !== '';
      if (hasBody && !ctx.req.complete && headers.Connection !== 'close') lingerAfterAnswer(ctx.req, ctx.res);
      ctx.type = 'application/problem+json';
      ctx.body = problem;
    }
  };
}
