import { InsufficientScope, Unauthenticated, VerificationUnavailable } from '../auth/errors.js';
import {
  DomainError,
  IdempotencyKeyReused,
  IdempotencyKeyTaken,
  InvalidInput,
  Abandoned,
  NotFound,
  SearchTooBroad,
  TooManyItems,
  Unavailable,
  UnprocessableItems,
  type FieldError,
} from '../domain/errors.js';

/** How an error the service raises is answered: status, problem type slug, headers. */
export type ProblemType = {
  status: number;
  slug: string;
  headers?: (error: Error) => Record<string, string>;
  /** A 5xx whose cause is logged where it happens, once, rather than with every request it fails. */
  loggedAtCause?: true;
};

const REALM = 'records';

/**
 * The one table from the errors of the domain and of auth to HTTP. Each problem type is
 * documented in service/openapi.yaml (Problem) as `/problems/<slug>`.
 */
const PROBLEM_TYPES = new Map<new (...args: never[]) => Error, ProblemType>([
  [InvalidInput, { status: 400, slug: 'invalid-input' }],
  [NotFound, { status: 404, slug: 'not-found' }],
  [IdempotencyKeyTaken, { status: 409, slug: 'idempotency-key-in-use' }],
  [TooManyItems, { status: 413, slug: 'too-many-items' }],
  [UnprocessableItems, { status: 422, slug: 'unprocessable-items' }],
  [IdempotencyKeyReused, { status: 422, slug: 'idempotency-key-reused' }],
  [SearchTooBroad, { status: 422, slug: 'search-too-broad' }],
  // Never reaches anyone (the client is gone); a 4xx, so a client's disconnect is no server error in the logs or the SLO.
  [Abandoned, { status: 408, slug: 'request-abandoned' }],
  [Unavailable, { status: 503, slug: 'unavailable' }],
  [
    Unauthenticated,
    {
      status: 401,
      slug: 'invalid-token',
      // RFC 6750 3.1: a request that sent no bearer token gets the challenge alone, no error code.
      headers: (error) => {
        const { reason, tokenSent } = error as Unauthenticated;
        return { 'WWW-Authenticate': tokenSent ? `Bearer realm="${REALM}", error="invalid_token", error_description="${reason}"` : `Bearer realm="${REALM}"` };
      },
    },
  ],
  [
    InsufficientScope,
    {
      status: 403,
      slug: 'insufficient-scope',
      headers: (error) => ({ 'WWW-Authenticate': `Bearer realm="${REALM}", error="insufficient_scope", scope="${(error as InsufficientScope).scope}"` }),
    },
  ],
  // When the issuer's keys are fetched for next: a client that came back sooner (the header said 5 s
  // where fetches were 6 s apart) got 401 for a token it should keep.
  // The failed fetch is logged once (runtime.ts): during an outage every request fails on it.
  [VerificationUnavailable, { status: 503, slug: 'auth-unavailable', headers: (error) => ({ 'Retry-After': String((error as VerificationUnavailable).retryAfterSeconds) }), loggedAtCause: true }],
]);

/** The problem an error of the domain or of auth is answered with, or null for any other error. */
export function problemTypeOf(error: unknown): { type: ProblemType; errors: FieldError[]; extensions: Record<string, unknown> } | null {
  if (!(error instanceof Error)) return null;
  const type = PROBLEM_TYPES.get(error.constructor as new (...args: never[]) => Error);
  if (!type) return null;
  return error instanceof DomainError ? { type, errors: error.errors, extensions: error.extensions } : { type, errors: [], extensions: {} };
}
