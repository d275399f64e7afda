import { readFileSync } from 'node:fs';
import { parseObjects, run } from './tools.js';

/** The latency thresholds charts/records/values.schema.json allows. */
export const latencyThresholds = (): string[] =>
  JSON.parse(readFileSync('charts/records/values.schema.json', 'utf8')).properties.prometheusRule.properties.latencyThreshold.enum;

/**
 * The bucket selector of each records:request_slow:* rule the chart renders at `threshold`, with
 * the release's series selector replaced by `selector` (a test Prometheus's job).
 */
export function slowBucketSelectors(threshold: string, selector: string): string[] {
  const rendered = run('helm', ['template', 'records', 'charts/records', '-n', 'records', '--set', 'prometheusRule.enabled=true', '--set-string', `prometheusRule.latencyThreshold=${threshold}`]);
  if (rendered.status !== 0) throw new Error(rendered.stderr.trim());
  return parseObjects(rendered.stdout)
    .filter((object) => object.kind === 'PrometheusRule')
    .flatMap((object) => object.spec.groups.flatMap((group: { rules: Array<{ record?: string; expr: string }> }) => group.rules))
    .filter((rule: { record?: string }) => rule.record?.startsWith('records:request_slow:'))
    .map((rule: { expr: string }) => /http_request_duration_seconds_bucket\{[^}]*\}/.exec(rule.expr)![0].replace('namespace="records",service="records"', selector));
}
