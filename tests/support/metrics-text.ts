/** Reading Prometheus' text format in tests. */

/** Each sample of metric `name` whose labels include `labels`. */
function samples(text: string, name: string, labels: Record<string, string>): number[] {
  const found: number[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const own = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => own[key] === value)) found.push(Number(match[3]));
  }
  return found;
}

/** The first sample of metric `name` whose labels include `labels`, or null. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | null {
  return samples(text, name, labels)[0] ?? null;
}

/** The sum of every sample of metric `name` whose labels include `labels` (over the others' values). */
export function sampleSum(text: string, name: string, labels: Record<string, string> = {}): number {
  return samples(text, name, labels).reduce((sum, value) => sum + value, 0);
}
