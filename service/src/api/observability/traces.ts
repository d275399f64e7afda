import { context, trace, type Attributes } from '@opentelemetry/api';

/**
 * What the service itself says to tracing, through the OpenTelemetry API only: without the SDK
 * (tracing off, service/src/api/tracing.ts) every call here is a no-op on a no-op span.
 */

/** Adds attributes to the span of the current request step (the Koa route span). */
export function annotateSpan(attributes: Attributes): void {
  trace.getActiveSpan()?.setAttributes(attributes);
}

/** The active trace's ids for a log line, or nothing when no trace is being recorded. */
export function traceIds(): { trace_id: string; span_id: string } | Record<string, never> {
  const span = trace.getSpanContext(context.active());
  return span && trace.isSpanContextValid(span) ? { trace_id: span.traceId, span_id: span.spanId } : {};
}

/** Exports the spans still queued (before the process exits); resolves at once when tracing is off. */
export async function flushTraces(): Promise<void> {
  const provider = trace.getTracerProvider() as { getDelegate?: () => unknown };
  const delegate = (provider.getDelegate?.() ?? provider) as { forceFlush?: () => Promise<void> };
  await delegate.forceFlush?.().catch(() => undefined);
}
