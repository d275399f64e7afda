import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { ENVIRONMENTS } from '../../tooling/environments.js';
import { crdFiles } from '../../tooling/upstream-mirror.js';
import { asKubectlInput, kubectl, must } from '../cluster/cluster.js';
import { kedaRender, kongRender, parseObjects, upstreamObjects, type K8sObject } from '../support/tools.js';
import { asYaml, Repository, type LiveObject } from './argocd.js';
import { leftOut, VALKEY_MIRROR } from './stand-ins.js';

/**
 * What a user does to deploy this repository with Argo CD, redirected to the test's cluster and
 * repositories, never by edits of committed files:
 *  - every Application's repoURL: https://github.com/records/records.git -> the test's git daemon;
 *  - every destination: the environment's API server -> https://kubernetes.default.svc (this one);
 *  - every upstream chart (KEDA, Kong, mariadb-operator and its CRDs, Valkey): its chart
 *    repository -> a directory of a mirror repository on the same daemon holding what the chart
 *    renders at its pinned version (the upstream mirror, tools/upstream.yaml), minus what
 *    stand-ins.ts leaves out and with Valkey's as it says.
 * The projects get the test's repositories added to their sourceRepos, as a user adds a mirror.
 */

const versions = parse(readFileSync('argocd/apps/values.yaml', 'utf8')).charts as Record<string, { repoURL: string; chart: string; version: string }>;
export const GITHUB = 'https://github.com/records/records.git';
export const IN_CLUSTER = 'https://kubernetes.default.svc';

/** Kong's image as kong/values.yaml names it today (the played proxy is built under that name). */
function withTodaysKongImage(objects: K8sObject[]): K8sObject[] {
  const tag = parse(readFileSync('kong/values.yaml', 'utf8')).image.tag as string;
  for (const object of objects.filter((o) => o.kind === 'Deployment')) {
    for (const container of [...object.spec.template.spec.containers, ...(object.spec.template.spec.initContainers ?? [])]) {
      if (/^kong:/.test(container.image)) container.image = `kong:${tag}`;
    }
  }
  return objects;
}

/** What each upstream chart's Application syncs instead of its chart: a mirror directory. */
function mirrorsFor(environment: string): Record<string, { path: string; objects: K8sObject[]; note: string }> {
  const keda = `keda-${versions.keda!.version}`;
  const kong = `kong-${versions.kong!.version}`;
  const operator = `mariadb-operator-${versions.mariadbOperator!.version}`;
  const valkey = `valkey-${versions.valkey!.version}`;
  const kongRendered = kongRender(environment);
  return {
    keda: { path: keda, objects: kedaRender(versions.keda!.version), note: "its CRDs and what it renders by default, with argocd/values/keda's webhook arguments added (the project's model of the chart's extraArgs.webhooks)" },
    kong: { path: `${kong}-${environment}`, objects: withTodaysKongImage(kongRendered.objects), note: `${kongRendered.note}; Kong's image as kong/values.yaml names it` },
    mariadbOperatorCrds: { path: `mariadb-operator-crds-${versions.mariadbOperatorCrds!.version}`, objects: upstreamObjects(`${operator}/crds.yaml`), note: 'its CRDs' },
    mariadbOperator: { path: operator, objects: upstreamObjects(`${operator}/rendered-defaults.yaml`), note: 'what it renders by default, CRDs off (as argocd/values/mariadb-operator sets)' },
    valkey: { path: valkey, objects: VALKEY_MIRROR.objects(), note: VALKEY_MIRROR.note },
  };
}

/** Pushes the mirrors of `environment`; returns one line per chart saying what replaced it. */
export function pushMirrors(mirrors: Repository, environment: string): string[] {
  const said: string[] = [];
  for (const [key, mirror] of Object.entries(mirrorsFor(environment))) {
    const kept = mirror.objects.filter((object) => !leftOut(object));
    const dropped = mirror.objects.filter(leftOut).map((object) => `${object.kind}/${object.metadata.name}`);
    mirrors.write(`${mirror.path}/objects.yaml`, asYaml(kept));
    said.push(`${key}: ${versions[key]!.repoURL} ${versions[key]!.chart} ${versions[key]!.version} -> ${mirrors.url} ${mirror.path}/ (${mirror.note}${dropped.length ? `; left out ${dropped.join(', ')}` : ''})`);
  }
  mirrors.commit(`mirrors for ${environment}`);
  return said;
}

/** The committed projects, with the test's repositories added to their sourceRepos. */
export function projects(records: Repository, mirrors: Repository): K8sObject[] {
  const environmentServers = ENVIRONMENTS.map((environment) => parse(readFileSync(`argocd/apps/values-${environment}.yaml`, 'utf8')).destinationServer as string);
  return parseObjects(readFileSync('argocd/projects.yaml', 'utf8')).map((project) => {
    const repos: string[] = project.spec.sourceRepos;
    const chartRepos = Object.values(versions).map((chart) => chart.repoURL);
    if (repos.includes(GITHUB)) repos.push(records.url);
    if (repos.some((repo) => chartRepos.includes(repo))) repos.push(mirrors.url);
    // The environments' clusters are this one, as the root's destinationServer says.
    for (const destination of project.spec.destinations ?? []) if (environmentServers.includes(destination.server)) destination.server = IN_CLUSTER;
    return project;
  });
}

/** The committed root Application of `environment`, redirected by its values. */
export function rootApplication(environment: string, records: Repository, mirrors: Repository): K8sObject {
  const [root] = parseObjects(readFileSync(`argocd/root/${environment}.yaml`, 'utf8'));
  root!.spec.source.repoURL = records.url;
  root!.spec.source.helm.valuesObject = {
    repoURL: records.url,
    destinationServer: IN_CLUSTER,
    charts: Object.fromEntries(Object.entries(mirrorsFor(environment)).map(([key, mirror]) => [key, { mirror: { repoURL: mirrors.url, targetRevision: 'main', path: mirror.path } }])),
  };
  return root!;
}

export const apply = (objects: K8sObject[], what: string) => must(kubectl(['apply', '-f', '-'], asKubectlInput(objects)), what);

/**
 * What docs/gitops.md asks of the cluster before the root Application: the CRDs of cert-manager
 * and, in production, of the Prometheus Operator; a Prometheus where the environment's values look
 * for it (tools/argocd/prometheus.yaml: Debian's, scraping by annotations, under both names).
 */
export function installPrerequisites(environment: string): void {
  const wanted = parse(readFileSync(`argocd/apps/values-${environment}.yaml`, 'utf8')).prerequisites;
  const files = crdFiles().filter((file) => (wanted.certManagerCRDs && file.includes('/cert-manager')) || (wanted.prometheusOperatorCRDs && file.includes('/prometheus-operator')));
  must(kubectl(['apply', '--server-side', '--field-manager', 'records-test', ...files.flatMap((file) => ['-f', file])]), 'applying prerequisite CRDs');
  must(kubectl(['apply', '-f', 'tools/argocd/prometheus.yaml']), 'applying the Prometheus');
}

/**
 * Test values, committed to the test's copy of this repository before the first sync (said in the
 * output): staging's records service trusts the tokens it mints (its identity provider,
 * id.staging.example.org, is outside the cluster), and KEDA looks often and reacts fast so that
 * the autoscaling test runs in minutes: the chart's defaults poll every 15 s over a 2-minute rate
 * window and wait 5 minutes before scaling down.
 */
export const STAGING_TEST_VALUES = {
  file: 'argocd/values/records/staging.yaml',
  auth: { issuers: [] },
  keda: { pollingInterval: 5, scaleDownStabilizationSeconds: 20, prometheus: { scrapeInterval: '5s', rateWindow: '20s', requestsPerSecondPerPod: 20 } },
};

export function withStagingTestValues(records: Repository): string {
  const values = parse(records.read(STAGING_TEST_VALUES.file));
  values.config.auth = STAGING_TEST_VALUES.auth;
  const keda = values.autoscaling.keda;
  Object.assign(keda, { ...STAGING_TEST_VALUES.keda, prometheus: { ...keda.prometheus, ...STAGING_TEST_VALUES.keda.prometheus } });
  records.write(STAGING_TEST_VALUES.file, stringify(values));
  return `test values in ${STAGING_TEST_VALUES.file}: config.auth ${JSON.stringify(STAGING_TEST_VALUES.auth)}, autoscaling.keda ${JSON.stringify(STAGING_TEST_VALUES.keda)}`;
}

/** The ReplicaSets of a Deployment: template hash, desired and ready replicas. */
export function replicaSetsOf(namespace: string, deployment: string): Array<{ hash: string; replicas: number; ready: number }> {
  const sets = JSON.parse(must(kubectl(['get', 'replicasets', '-n', namespace, '-o', 'json']), 'listing ReplicaSets')).items as LiveObject[];
  return sets
    .filter((set) => set.metadata.ownerReferences?.some((owner) => owner.kind === 'Deployment' && owner.name === deployment))
    .map((set) => ({ hash: set.metadata.labels?.['pod-template-hash'] ?? '', replicas: set.spec.replicas ?? 0, ready: set.status?.readyReplicas ?? 0 }));
}

export function podsOf(namespace: string, selector: string): Array<{ name: string; hash: string; node: string; ready: boolean }> {
  const pods = JSON.parse(must(kubectl(['get', 'pods', '-n', namespace, '-l', selector, '-o', 'json']), 'listing pods')).items as LiveObject[];
  return pods
    .filter((pod) => !pod.metadata.deletionTimestamp)
    .map((pod) => ({
      name: pod.metadata.name,
      hash: pod.metadata.labels?.['pod-template-hash'] ?? '',
      node: pod.spec.nodeName ?? '',
      ready: (pod.status?.conditions ?? []).some((condition: { type: string; status: string }) => condition.type === 'Ready' && condition.status === 'True'),
    }));
}

/** The digest the loopback registry gives the image scripts/with-cluster built from this checkout. */
function builtImageDigest(): string {
  const line = readFileSync(`${process.env.TEST_CLUSTER_DIR}/image-digests`, 'utf8').split('\n').find((entry) => entry.startsWith('ghcr.io/records/records:'));
  if (!line) throw new Error('no records image in the cluster registry (scripts/with-cluster builds it)');
  return line.split(' ')[1]!;
}

/**
 * What the release of production's tag carries, committed before tagging and said in the output:
 * the image's digest, as the release workflow sets it (docs/release.md), here the digest of the
 * image built from this checkout; and, as test values, CPU requests that fit this machine's two
 * cores (records pods 100m instead of 250m, the database 250m instead of 1 CPU): production asks
 * for more than one small node has, and a request changes where pods fit, not what they do.
 */
export function withProductionRelease(records: Repository): string {
  const digest = builtImageDigest();
  const valuesFile = 'argocd/values/records/production.yaml';
  const values = parse(records.read(valuesFile));
  values.image.digest = digest;
  values.resources.requests.cpu = '100m';
  records.write(valuesFile, stringify(values));
  const databaseFile = 'argocd/database/production/mariadb.yaml';
  const database = parse(records.read(databaseFile));
  database.spec.resources.requests.cpu = '250m';
  records.write(databaseFile, stringify(database));
  return `release values: image.digest ${digest} in ${valuesFile}; test values: resources.requests.cpu 100m there, 250m in ${databaseFile}`;
}

/** A gauge's value as a records pod exposes it on /metrics, read inside the pod; null when absent. */
export function podGauge(namespace: string, pod: string, name: string): number | null {
  const script = `fetch('http://127.0.0.1:8000/metrics').then((r) => r.text()).then((text) => {
    const line = text.split('\\n').find((entry) => entry.startsWith(process.argv.at(-1) + ' '));
    console.log(line ? line.split(' ')[1] : 'absent');
  })`;
  const value = must(kubectl(['exec', '-n', namespace, pod, '--', 'node', '-e', script, '--', name]), `${name} of ${pod}`).trim();
  return value === 'absent' ? null : Number(value);
}
