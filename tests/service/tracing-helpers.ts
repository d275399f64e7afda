import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export type Span = { traceId: string; spanId: string; parentSpanId?: string; name: string; scope: string; attributes: Record<string, unknown> };

export const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

type Attributes = Array<{ key: string; value: Record<string, unknown> }>;
type SpansDocument = { resourceSpans: Array<{ scopeSpans: Array<{ scope: { name: string }; spans: Array<Omit<Span, 'scope' | 'attributes'> & { attributes?: Attributes }> }> }> };
/** Metrics or logs: each kind's resources under its own key (resourceMetrics, resourceLogs). */
type ResourcesDocument = Record<string, Array<{ resource?: { attributes?: Attributes } }>>;

/**
 * The OTLP JSON documents the collector's file exporter wrote so far, one per line: a last line
 * without its newline is still being written, and is left for the next read.
 */
function exportedDocuments<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').slice(0, -1).filter(Boolean).map((line) => JSON.parse(line) as T);
}

/** Every span the collector wrote so far. */
export function exportedSpans(file: string): Span[] {
  const value = (attribute: Attributes[number]) => Object.values(attribute.value)[0];
  const spans: Span[] = [];
  for (const document of exportedDocuments<SpansDocument>(file))
    for (const resource of document.resourceSpans)
      for (const scoped of resource.scopeSpans)
        for (const span of scoped.spans)
          spans.push({ ...span, scope: scoped.scope.name, attributes: Object.fromEntries((span.attributes ?? []).map((a) => [a.key, value(a)])) });
  return spans;
}

/** The `service.name` of every resource in a file of OTLP JSON metrics or logs. */
export function exportedServiceNames(file: string): Set<string> {
  const names = new Set<string>();
  for (const document of exportedDocuments<ResourcesDocument>(file))
    for (const resources of Object.values(document))
      for (const { resource } of resources) names.add(String(resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue));
  return names;
}
