import type Router from '@koa/router';
import { createRouter } from './router.js';
import type { SigningKey } from '../auth/signing-key.js';

/** Publishes the service's own public key, so others can verify the tokens it mints. */
export function createWellKnownRouter({ signingKey }: { signingKey: SigningKey | null }): Router {
  const router = createRouter();
  const body = { keys: signingKey ? [signingKey.publicJwk] : [] };
  router.get('/.well-known/jwks.json', (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = body;
  });
  return router;
}
