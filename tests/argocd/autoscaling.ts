import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { kubectl, must } from '../cluster/cluster.js';
import type { LiveObject } from './argocd.js';

/**
 * Load from Locust in a pod (docker.io/locustio/locust as scripts/install-images builds it, the
 * repository's tools/loadtest/locustfile.py mounted from a ConfigMap) against the records Service,
 * and the timeline of what KEDA did about it.
 */

const NAMESPACE = 'kong'; // the records NetworkPolicy admits API traffic from Kong's namespace
const POD = 'locust';
const locustVersion = () => readFileSync('tools/loadtest/requirements.txt', 'utf8').match(/^locust==(\S+)$/m)![1];

export type Load = { users: number; userRate: number; seconds: number; requestsPerConnection: number };

/** Starts Locust: `users` users of `userRate` requests per second each, for at most `seconds`. */
function startLocust(base: string, tokens: string[], load: Load): void {
  const objects = [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'locustfile', namespace: NAMESPACE }, data: { 'locustfile.py': readFileSync('tools/loadtest/locustfile.py', 'utf8') } },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: POD, namespace: NAMESPACE, labels: { 'app.kubernetes.io/name': 'locust' } },
      spec: {
        restartPolicy: 'Never',
        automountServiceAccountToken: false,
        terminationGracePeriodSeconds: 0,
        securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [{
          name: 'locust',
          image: `docker.io/locustio/locust:${locustVersion()}`,
          args: ['--locustfile', '/locust/locustfile.py', '--headless', '--host', base, '--users', String(load.users), '--spawn-rate', String(load.users),
            '--run-time', `${load.seconds}s`, '--csv', '/tmp/load', '--csv-full-history', '--only-summary', '--loglevel', 'WARNING'],
          env: [{ name: 'RECORDS_TOKENS', value: tokens.join(',') }, { name: 'RECORDS_USER_RATE', value: String(load.userRate) },
            { name: 'RECORDS_RECONNECT', value: String(load.requestsPerConnection) }, { name: 'HOME', value: '/tmp' }],
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
          volumeMounts: [{ name: 'locustfile', mountPath: '/locust' }, { name: 'tmp', mountPath: '/tmp' }],
        }],
        volumes: [{ name: 'locustfile', configMap: { name: 'locustfile' } }, { name: 'tmp', emptyDir: {} }],
      },
    },
  ];
  must(kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects })), 'starting Locust');
  must(kubectl(['wait', '-n', NAMESPACE, '--for', 'condition=Ready', `pod/${POD}`, '--timeout', '120s']), 'Locust running');
}

/** Locust's history so far: per second, the requests per second and the p99 of the last seconds (ms), and failures. */
function locustHistory(): Array<{ time: number; rps: number; p99: number; failures: number }> {
  const csv = must(kubectl(['exec', '-n', NAMESPACE, POD, '--', 'cat', '/tmp/load_stats_history.csv']), "reading Locust's history");
  const [header, ...rows] = csv.trim().split('\n').map((line) => line.split(','));
  const column = (name: string) => header!.findIndex((title) => title.replace(/"/g, '') === name);
  const [time, name, rps, p99, failures] = ['Timestamp', 'Name', 'Requests/s', '99%', 'Total Failure Count'].map(column);
  return rows
    .filter((row) => row[name!]!.replace(/"/g, '') === 'Aggregated')
    .map((row) => ({ time: Number(row[time!]), rps: Number(row[rps!]), p99: Number(row[p99!]) || 0, failures: Number(row[failures!]) }));
}

/** Locust's failures so far, one CSV line per kind (method, name, error, occurrences). */
function locustFailures(): string {
  return must(kubectl(['exec', '-n', NAMESPACE, POD, '--', 'cat', '/tmp/load_failures.csv']), "reading Locust's failures").trim();
}

function stopLocust(): void {
  kubectl(['delete', 'pod', POD, '-n', NAMESPACE, '--wait=false', '--ignore-not-found']);
  kubectl(['delete', 'configmap', 'locustfile', '-n', NAMESPACE, '--ignore-not-found']);
}

export type Sample = { time: number; replicas: number; ready: number; keda: number | null; cpu: number | null };

/**
 * What the autoscaler sees and does now: the Deployment's replicas and Ready pods, and the HPA
 * KEDA made: the request rate per pod it read through KEDA's metrics API, and CPU utilization
 * from metrics-server.
 */
function sample(namespace: string, deployment: string, hpa: string): Sample {
  const live = JSON.parse(must(kubectl(['get', 'deployment', deployment, '-n', namespace, '-o', 'json']), 'reading the Deployment'));
  const scaler = kubectl(['get', 'hpa', hpa, '-n', namespace, '-o', 'json']);
  const metrics: Array<{ type: string; external?: { current: { averageValue?: string; value?: string } }; resource?: { current: { averageUtilization?: number } } }> =
    scaler.status === 0 ? JSON.parse(scaler.stdout).status?.currentMetrics ?? [] : [];
  const external = metrics.find((metric) => metric.type === 'External')?.external?.current;
  const quantity = external?.averageValue ?? external?.value;
  return {
    time: Math.round(Date.now() / 1000),
    replicas: live.spec.replicas,
    ready: live.status.readyReplicas ?? 0,
    keda: quantity === undefined ? null : milli(quantity),
    cpu: metrics.find((metric) => metric.type === 'Resource')?.resource?.current.averageUtilization ?? null,
  };
}

/** A Kubernetes quantity as a number: "12500m" -> 12.5. */
const milli = (quantity: string) => (quantity.endsWith('m') ? Number(quantity.slice(0, -1)) / 1000 : Number(quantity));

export type TimelineRow = Sample & { rps: number | null; p99: number | null };

/** Joins the samples with Locust's history (the nearest second at or before each sample). */
function timeline(samples: Sample[], history: ReturnType<typeof locustHistory>): TimelineRow[] {
  // A phase's first sample follows the previous phase's last within a second: keep the later one.
  const unique = samples.filter((entry, index) => !(samples[index + 1] && samples[index + 1]!.time - entry.time < 2));
  return unique.map((entry) => {
    const seen = history.filter((row) => row.time <= entry.time).at(-1);
    const current = seen && entry.time - seen.time <= 5 ? seen : undefined;
    return { ...entry, rps: current?.rps ?? null, p99: current?.p99 ?? null };
  });
}

/** Writes the timeline where tooling/plot-autoscaling.ts reads it (.test-results/, git-ignored) and returns it as a table. */
function recordTimeline(rows: TimelineRow[], settings: object): string {
  mkdirSync('.test-results', { recursive: true });
  writeFileSync('.test-results/autoscaling.json', JSON.stringify({ settings, rows }, null, 1));
  const start = rows[0]?.time ?? 0;
  const cell = (value: number | null, digits = 0) => (value === null ? '-' : value.toFixed(digits));
  return ['   t  replicas  ready  rate/pod (KEDA)  cpu %  Locust req/s  p99 ms',
    ...rows.map((row) => `${String(row.time - start).padStart(4)}  ${String(row.replicas).padStart(8)}  ${String(row.ready).padStart(5)}  ${cell(row.keda, 1).padStart(15)}  ${cell(row.cpu).padStart(5)}  ${cell(row.rps, 1).padStart(12)}  ${cell(row.p99).padStart(6)}`)].join('\n');
}

/** Each Ready pod of the Deployment has answered API requests: its own /v1 request count, read inside it. */
function apiRequestsPerPod(namespace: string, selector: string): Record<string, number> {
  const pods = JSON.parse(must(kubectl(['get', 'pods', '-n', namespace, '-l', selector, '-o', 'json']), 'listing pods')).items as LiveObject[];
  const ready = pods.filter((pod) => !pod.metadata.deletionTimestamp && (pod.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True'));
  const script = `fetch('http://127.0.0.1:8000/metrics').then((r) => r.text()).then((text) => console.log(text.split('\\n')
    .filter((line) => line.startsWith('http_request_duration_seconds_count{') && /route="\\/v1/.test(line))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0)))`;
  return Object.fromEntries(ready.map((pod) => [pod.metadata.name, Number(must(kubectl(['exec', '-n', namespace, pod.metadata.name, '--', 'node', '-e', script]), `metrics of ${pod.metadata.name}`).trim())]));
}

const pause = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

/** `failed`: Locust's failures table (method, name, error, occurrences), to say what failed. */
export type ScalingRun = { rows: TimelineRow[]; table: string; servedAtPeak: Record<string, number>; failures: number; failed: string; final: Sample };

/**
 * Drives the records Deployment from its minimum up and back: waits until KEDA's HPA reads both
 * its metrics at the minimum, starts Locust, samples every 5 s until at least `peak` pods are
 * Ready and each has answered API requests, keeps the load 20 s more, stops it, and samples until
 * the Deployment is back at `min`. Throws with the timeline when a phase overruns.
 */
export async function scaleUpAndBack(options: { base: string; tokens: string[]; min: number; peak: number; load: Load; settings: object }): Promise<ScalingRun> {
  const take = () => sample('records', 'records', 'keda-hpa-records');
  const samples: Sample[] = [];
  const until = async (what: string, seconds: number, done: (now: Sample) => boolean) => {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
      const now = take();
      samples.push(now);
      if (done(now)) return now;
      if (Date.now() > deadline) throw new Error(`${what}: not within ${seconds} s; timeline:\n${recordTimeline(timeline(samples, []), options.settings)}`);
      await pause(5);
    }
  };
  await until('the HPA reading both metrics at the minimum', 240, (now) => now.keda !== null && now.cpu !== null && now.replicas === options.min && now.ready === options.min);
  samples.length = 0;
  startLocust(options.base, options.tokens, options.load);
  let servedAtPeak: Record<string, number> = {};
  let history: ReturnType<typeof locustHistory>;
  let failed = '';
  try {
    await until(`at least ${options.peak} Ready pods answering API requests`, 300, (now) => {
      if (now.ready < options.peak) return false;
      servedAtPeak = apiRequestsPerPod('records', 'app.kubernetes.io/name=records');
      return Object.keys(servedAtPeak).length >= options.peak && Object.values(servedAtPeak).every((count) => count > 0);
    });
    const loadedUntil = Date.now() + 20_000;
    await until('20 s more under load', 60, () => Date.now() >= loadedUntil);
    history = locustHistory();
    failed = locustFailures();
  } finally {
    stopLocust();
  }
  const final = await until(`back to ${options.min} replicas`, 360, (now) => now.replicas === options.min && now.ready === options.min);
  const rows = timeline(samples, history);
  return { rows, table: recordTimeline(rows, options.settings), servedAtPeak, failures: history.at(-1)?.failures ?? 0, failed, final };
}
