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

/** Every span the collector wrote so far (the file exporter writes one OTLP JSON document per line). */
export function exportedSpans(file: string): Span[] {
  if (!existsSync(file)) return [];
  const value = (attribute: { value: Record<string, unknown> }) => Object.values(attribute.value)[0];
  const spans: Span[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const document = JSON.parse(line) as {
      resourceSpans: Array<{ scopeSpans: Array<{ scope: { name: string }; spans: Array<Omit<Span, 'scope' | 'attributes'> & { attributes?: Array<{ key: string; value: Record<string, unknown> }> }> }> }>;
    };
    for (const resource of document.resourceSpans)
      for (const scoped of resource.scopeSpans)
        for (const span of scoped.spans)
          spans.push({ ...span, scope: scoped.scope.name, attributes: Object.fromEntries((span.attributes ?? []).map((a) => [a.key, value(a)])) });
  }
  return spans;
}

/** The `service.name` of every resource in a file of OTLP JSON documents (metrics or logs). */
export function exportedServiceNames(file: string): Set<string> {
  const names = new Set<string>();
  if (!existsSync(file)) return names;
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const document = JSON.parse(line) as Record<string, Array<{ resource?: { attributes?: Array<{ key: string; value: { stringValue?: string } }> } }>>;
    for (const resources of Object.values(document))
      for (const { resource } of resources) names.add(String(resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue));
  }
  return names;
}
