/**
 * Distributed tracing, loaded before the service: `node --import ./service/dist/api/tracing.js
 * service/dist/main.js` (the image's entrypoint does this). Off unless the standard
 * OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set: then, and only then,
 * the OpenTelemetry SDK is imported and the module hooks are registered, so a service without a
 * collector loads nothing of it (`make bench` measures both). The standard OTEL_* variables
 * (sampler, service name, headers, protocol) configure the SDK as usual.
 */
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

const env = process.env;
// Worker threads inherit the preload (data/preparer-pool.ts): they do no I/O worth a span.
if (isMainThread && (env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) && env.OTEL_SDK_DISABLED !== 'true') {
  // ES modules are instrumented through import hooks, registered before the service's imports run.
  // The SDK's own modules are left unwrapped: wrapping its 1,700 made the preload take 3.6 s, not 2.0.
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { exclude: [/\/node_modules\/@opentelemetry\//] } });
  const { startTracing } = await import('./observability/tracing-sdk.js');
  startTracing();
}
