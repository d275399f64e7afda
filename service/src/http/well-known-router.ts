import Router from '@koa/router';
import type { SigningKey } from '../auth/signing-key.js';

/** Publishes the service's own public key, so others can verify the tokens it mints. */
export function createWellKnownRouter({ signingKey }: { signingKey: SigningKey | null }): Router {
  const router = new Router();
  const body = { keys: signingKey ? [signingKey.publicJwk] : [] };
  router.get('/.well-known/jwks.json', (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = body;
  });
  return router;
}
