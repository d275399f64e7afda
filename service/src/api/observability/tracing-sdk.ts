import type { Attributes } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { KoaInstrumentation, KoaLayerType } from '@opentelemetry/instrumentation-koa';
import { MySQL2Instrumentation } from '@opentelemetry/instrumentation-mysql2';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { statementShape } from './statement-shape.js';

/**
 * The OpenTelemetry Node SDK with the instrumentations for HTTP (incoming requests, and the
 * outgoing JWKS fetches, which carry `traceparent`), Koa (the route span), mysql2 and ioredis,
 * exporting OTLP over HTTP. W3C trace context is the SDK's default propagator, as in Kong's
 * opentelemetry plugin.
 *
 * No payload leaves the process in an attribute: statements are cut before their values and
 * masked, Redis spans carry the command name only (keys hold ids, values hold records), and the
 * HTTP spans' raw path and query (record ids, search terms) are replaced by the route template.
 */
export function startTracing(): void {
  const sdk = new NodeSDK({
    serviceName: process.env.OTEL_SERVICE_NAME ?? 'records',
    spanProcessors: [new RouteOnlyHttpAttributes(), new BatchSpanProcessor({ exporter: new OTLPTraceExporter() })],
    // Traces only. Left unset, the SDK would also export OTLP metrics every minute (and set up OTLP
    // logs) to the traces collector: duplicates of /metrics nobody asked for. The standard
    // OTEL_METRICS_EXPORTER still opts in; the service's logs are pino's, never the SDK's.
    metricReaders: process.env.OTEL_METRICS_EXPORTER ? undefined : [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        // Probes and scrapes are not requests anyone follows across services.
        ignoreIncomingRequestHook: (request) => /^\/(healthz|readyz|metrics)\b/.test(request.url ?? ''),
      }),
      new KoaInstrumentation({ ignoreLayersType: [KoaLayerType.MIDDLEWARE] }),
      new MySQL2Instrumentation({ maskStatement: true, maskStatementHook: statementShape }),
      new IORedisInstrumentation({ dbStatementSerializer: (command) => command }),
    ],
  });
  sdk.start();
}

/** Attributes of HTTP spans that would carry a raw path or query string. */
const RAW_TARGET = ['http.target', 'url.path', 'url.query', 'http.url', 'url.full'];

/**
 * Replaces the raw path and query of HTTP server spans by the route template when they end (the
 * route is only known once Koa's router matched), and drops them when no route matched.
 */
class RouteOnlyHttpAttributes implements SpanProcessor {
  onStart(): void {}
  onEnd(span: ReadableSpan): void {
    const attributes = span.attributes as Attributes;
    if (!RAW_TARGET.some((name) => name in attributes)) return;
    const route = attributes['http.route'];
    for (const name of RAW_TARGET) delete attributes[name];
    if (typeof route === 'string') attributes['url.path'] = route;
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
