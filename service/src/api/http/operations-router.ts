import type Router from '@koa/router';
import { createRouter } from './router.js';
import type { Metrics } from '../observability/metrics.js';
import type { ReadinessCheck } from '../observability/health.js';

/**
 * Endpoints for Kubernetes and Prometheus, outside /v1 and not behind user tokens: the chart's
 * NetworkPolicy and Kong's routes keep them off the public path.
 */
export function createOperationsRouter({ metrics, readiness }: { metrics: Metrics; readiness: ReadinessCheck }): Router {
  const router = createRouter();

  // Liveness: answering at all proves the process and its event loop are alive. No dependencies.
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });

  router.get('/readyz', async (ctx) => {
    const result = await readiness();
    ctx.status = result.ready ? 200 : 503;
    ctx.body = result.ready ? { status: 'ready' } : { status: 'not ready', reason: result.reason };
  });

  router.get('/metrics', async (ctx) => {
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });

  return router;
}
