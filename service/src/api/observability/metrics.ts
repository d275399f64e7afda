import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Every metric the service exports, on a registry of its own (no global state, so tests can run
 * several apps in one process). Names follow Prometheus conventions: base units, `_total` counters.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  return {
    registry,
    httpRequestDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by method, router template and status code; _count is the request rate autoscaling uses.',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    cacheRequests: new Counter({
      name: 'cache_requests_total',
      help: 'Cached reads by operation and outcome (hit, miss, bypass).',
      labelNames: ['operation', 'outcome'] as const,
      registers: [registry],
    }),
    cacheErrors: new Counter({
      name: 'cache_errors_total',
      help: 'Failed cache store commands (each answered from the database instead).',
      registers: [registry],
    }),
    dbQueryDuration: new Histogram({
      name: 'db_query_duration_seconds',
      help: 'Database query duration by statement kind.',
      labelNames: ['operation', 'outcome'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    recordsIngested: new Counter({ name: 'records_ingested_total', help: 'Records stored by bulk requests.', registers: [registry] }),
    recordsRejected: new Counter({ name: 'records_rejected_total', help: 'Bulk items rejected as invalid.', registers: [registry] }),
    // Registered by the Redis store alone (runtime.ts): a gauge is exported as 0 from the start, and
    // without Redis that 0 raised RecordsCacheUnavailable on every install without one.
    redisUp: new Gauge({ name: 'redis_up', help: '1 while the Redis cache is reachable, 0 otherwise (absent without Redis).', registers: [] }),
    databaseUp: new Gauge({ name: 'database_up', help: '1 when the last database check succeeded.', registers: [registry] }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
