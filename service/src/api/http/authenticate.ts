import type { Middleware } from 'koa';
import { InsufficientScope, Unauthenticated, VerificationUnavailable } from '../auth/errors.js';
import { SCOPES, type Principal } from '../auth/principal.js';
import { InvalidToken, KeysUnavailable, type TokenVerifier } from '../auth/token-verifier.js';

/** Only the Authorization header counts; tokens in query strings or cookies are ignored. */
function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer[ ]+([A-Za-z0-9\-_.~+/]+=*)[ ]*$/i.exec(header ?? '');
  return match?.[1] ?? null;
}

/** The principal used for every request when AUTH_MODE=disabled (local development only). */
const DEVELOPER: Principal = { subject: 'anonymous-developer', issuer: 'auth-disabled', scopes: new Set(Object.values(SCOPES)) };

/**
 * Establishes `ctx.state.principal` for routes that need one. With a verifier, a request without
 * a valid token is 401, and an issuer whose keys cannot be fetched is 503 with Retry-After.
 */
export function authenticate({ verifier }: { verifier: TokenVerifier | null }): Middleware {
  return async (ctx, next) => {
    if (verifier === null) {
      ctx.state.principal = DEVELOPER;
      return next();
    }
    const header = ctx.get('authorization');
    const token = bearerToken(header || undefined);
    if (token === null) {
      // Another scheme (Basic) is no bearer token at all, as no header is; `Bearer` with a bad value is malformed.
      const bearer = /^Bearer(?:[ ]|$)/i.test(header);
      throw new Unauthenticated(bearer ? 'malformed authorization header' : 'missing bearer token', bearer);
    }
    try {
      ctx.state.principal = await verifier.verify(token);
    } catch (error) {
      if (error instanceof InvalidToken) throw new Unauthenticated(error.message);
      // The failed fetch was logged where it failed (runtime.ts), once, not per request.
      if (error instanceof KeysUnavailable) throw new VerificationUnavailable(error.retryAfterSeconds, { cause: error });
      throw error;
    }
    return next();
  };
}

/** 403 unless the authenticated principal holds `scope`. */
export function requireScope(scope: string): Middleware {
  return async (ctx, next) => {
    const principal = ctx.state.principal;
    if (!principal) throw new Unauthenticated('missing bearer token', false);
    if (!principal.scopes.has(scope)) throw new InsufficientScope(scope);
    return next();
  };
}
