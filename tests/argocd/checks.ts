import { expect } from 'chai';
import { kubectl, must } from '../cluster/cluster.js';
import { helmTemplate } from '../support/tools.js';
import { waitFor } from '../support/wait.js';
import { waveOf, type Application } from './argocd.js';
import { podGauge, podsOf } from './deploy.js';
import { OUTSIDE_THE_CLUSTER } from './stand-ins.js';

/** What the Argo CD suite checks of the Applications and of what they run on the real node. */

export const byName = (apps: Application[], name: string) => apps.find((app) => app.metadata.name === name);
const seconds = (time: string | undefined) => (time ? Date.parse(time) / 1000 : Number.NaN);

/**
 * The root creates the Applications of a wave only once every earlier wave is Synced and
 * Healthy: each one's creation follows the first completed sync of every earlier one. Returns
 * each Application created too early.
 */
export function waveOrderViolations(children: Application[]): string[] {
  const order: string[] = [];
  for (const earlier of children) {
    for (const later of children.filter((app) => waveOf(app) > waveOf(earlier))) {
      const synced = seconds(earlier.status?.history?.[0]?.deployedAt);
      const created = seconds(later.metadata.creationTimestamp);
      if (!(synced <= created)) order.push(`${later.metadata.name} (wave ${waveOf(later)}) created at ${later.metadata.creationTimestamp}, before ${earlier.metadata.name} (wave ${waveOf(earlier)}) first synced at ${earlier.status?.history?.[0]?.deployedAt}`);
    }
  }
  return order;
}

/**
 * The records Application's first sync ran the chart's pre-install hooks as PreSync: the
 * signing-key Secret, then migrations, both Succeeded, and the Deployment came after.
 */
export function expectPreSyncHooks(service: Application): void {
  const firstSync = JSON.parse(must(kubectl(['get', 'job', 'records-migrate', '-n', 'records', '-o', 'json']), 'reading the migrations Job'));
  expect(firstSync.metadata.annotations['helm.sh/hook']).to.contain('pre-install');
  expect(firstSync.status.succeeded).to.equal(1);
  const deployment = JSON.parse(must(kubectl(['get', 'deployment', 'records', '-n', 'records', '-o', 'json']), 'reading the Deployment'));
  expect(seconds(firstSync.status.completionTime)).to.be.at.most(seconds(deployment.metadata.creationTimestamp));
  const hooks = (service.status?.operationState?.syncResult?.resources ?? []).filter((resource) => resource.hookType);
  expect(hooks.map((hook) => `${hook.kind}/${hook.name} ${hook.hookType} ${hook.hookPhase}`)).to.include.members(['Job/records-init-secret PreSync Succeeded', 'Job/records-migrate PreSync Succeeded']);
}

/** KEDA's own status and objects: the ScaledObject Ready, its HPA, the metrics API available, its admission webhook answering. */
export function expectKedaOnTheNode(): void {
  const scaledObject = JSON.parse(must(kubectl(['get', 'scaledobject', 'records', '-n', 'records', '-o', 'json']), 'reading the ScaledObject'));
  const ready = scaledObject.status.conditions.find((condition: { type: string }) => condition.type === 'Ready');
  expect(ready, JSON.stringify(scaledObject.status)).to.include({ status: 'True', reason: 'ScaledObjectReady' });
  expect(scaledObject.status.hpaName).to.equal('keda-hpa-records');
  const hpa = JSON.parse(must(kubectl(['get', 'hpa', 'keda-hpa-records', '-n', 'records', '-o', 'json']), 'reading the HPA KEDA made'));
  expect(hpa.metadata.ownerReferences.map((owner: { kind: string; name: string }) => `${owner.kind}/${owner.name}`)).to.deep.equal(['ScaledObject/records']);
  const apiService = JSON.parse(must(kubectl(['get', 'apiservice', 'v1beta1.external.metrics.k8s.io', '-o', 'json']), 'reading the APIService'));
  expect(apiService.status.conditions.find((condition: { type: string }) => condition.type === 'Available').status).to.equal('True');
  // argocd/values/keda: on a cache miss the webhook asks the API server for the Deployment (its cache
  // may not hold one created a moment before); KEDA's binary refuses a flag it does not know.
  const webhooks = JSON.parse(must(kubectl(['get', 'deployment', 'keda-admission-webhooks', '-n', 'keda', '-o', 'json']), 'reading the webhook Deployment'));
  expect(webhooks.spec.template.spec.containers[0].args).to.include('--cache-miss-to-direct-client=true');
  for (const deployment of ['keda-operator', 'keda-operator-metrics-apiserver', 'keda-admission-webhooks']) {
    const pods = podsOf('keda', `app=${deployment}`);
    expect(pods.length, deployment).to.be.greaterThan(0);
    expect(pods.every((pod) => pod.ready && pod.node === 'records-node'), `${deployment} Ready on the real node`).to.equal(true);
  }
  // KEDA's admission webhook answers: a second ScaledObject on the same Deployment is refused.
  const twin = { ...scaledObject, metadata: { name: 'records-twin', namespace: 'records' }, status: undefined };
  const refused = kubectl(['apply', '--dry-run=server', '-f', '-'], JSON.stringify(twin));
  expect(refused.status).to.not.equal(0);
  expect(refused.stderr).to.match(/admission webhook "vscaledobject\.kb\.io" denied the request/);
}

/**
 * A release installed before KEDA (the chart's CPU HPA standing in) can be upgraded once KEDA is
 * there, as NOTES.txt tells users to: Helm creates the ScaledObject before it deletes the HPA, and
 * KEDA's webhook refuses a ScaledObject for a Deployment another HPA manages unless that HPA opts
 * out of the check, as the chart's does. Asked of the real webhook in a namespace of its own: first
 * the HPA without its opt-out (refused: the check works), then the chart's (admitted). The webhook
 * reads HPAs from its cache, so each answer is awaited until it settles.
 */
export async function expectKedaAdmitsAnUpgradeFromTheStandInHpa(): Promise<void> {
  const namespace = `records-keda-upgrade-${Date.now()}`;
  const [hpa] = helmTemplate([], [], 'records', namespace, []).filter((object) => object.kind === 'HorizontalPodAutoscaler');
  const [scaledObject] = helmTemplate([], [], 'records', namespace).filter((object) => object.kind === 'ScaledObject');
  const withoutOptOut = { ...hpa, metadata: { ...hpa!.metadata, annotations: { ...hpa!.metadata.annotations, 'validations.keda.sh/hpa-ownership': 'true' } } };
  const upgrade = () => kubectl(['apply', '-n', namespace, '--dry-run=server', '-f', '-'], JSON.stringify(scaledObject));
  must(kubectl(['create', 'namespace', namespace]), 'creating the namespace');
  try {
    must(kubectl(['apply', '-n', namespace, '-f', '-'], JSON.stringify(withoutOptOut)), 'creating the HPA without its opt-out');
    await waitFor('KEDA refusing a ScaledObject next to an HPA that does not opt out', async () => /already managed by the hpa/.test(upgrade().stderr), 30_000, 500);
    must(kubectl(['apply', '-n', namespace, '-f', '-'], JSON.stringify(hpa)), "applying the chart's HPA");
    await waitFor("KEDA admitting the ScaledObject next to the chart's HPA", async () => upgrade().status === 0, 30_000, 500);
  } finally {
    kubectl(['delete', 'namespace', namespace, '--wait=false']);
  }
}

/** Staging's records pods: on the real node, Ready by their probe (the database answers, migrations current), their cache Valkey. */
export function expectStagingRecordsOnTheNode(): void {
  const pods = podsOf('records', 'app.kubernetes.io/name=records');
  expect(pods.length).to.be.at.least(2);
  expect(pods.every((pod) => pod.ready && pod.node === 'records-node'), JSON.stringify(pods)).to.equal(true);
  const database = podsOf('records', 'app.kubernetes.io/instance=records-db');
  expect(database.map((pod) => pod.ready && pod.node)).to.deep.equal(['records-node']);
  expect(must(kubectl(['logs', '-n', 'records', 'job/records-migrate']), 'migration logs')).to.match(/"engine":"mysql","msg":"migrations applied"/);
  // Their cache: Valkey, as the records ACL user with the password from valkey-users.
  expect(pods.map((pod) => podGauge('records', pod.name, 'redis_up')), 'redis_up of each pod').to.deep.equal(pods.map(() => 1));
}

/** Every source of `apps` from the repository at `url` synced at `pinned`; the records Application (records-<environment>) has one. */
export function expectSourcesAt(apps: Application[], url: string, pinned: string): void {
  const fromUrl: string[] = [];
  for (const app of apps) {
    const sources = app.spec.sources ?? [app.spec.source];
    const revisions = app.status?.sync?.revisions ?? [app.status?.sync?.revision];
    sources.forEach((source: { repoURL: string }, index: number) => {
      if (source.repoURL !== url) return;
      fromUrl.push(app.metadata.name);
      expect(revisions[index], `${app.metadata.name} source ${index}`).to.equal(pinned);
    });
  }
  // With no source at `url` (its repoURL rewritten, say) nothing above was checked.
  expect(fromUrl.filter((name) => /^records-(staging|production)$/.test(name)), `Applications with a source at ${url}`).to.have.length.greaterThan(0);
}

/** Production on the real node without what lives outside the cluster: the records pods serve from the database, the cache off. */
export function expectProductionOnTheNode(): void {
  for (const outside of OUTSIDE_THE_CLUSTER.production) {
    expect(outside.absent(), outside.what).to.equal(true);
  }
  const pods = podsOf('records', 'app.kubernetes.io/name=records');
  expect(pods.length, 'minReplicas of production').to.equal(3);
  expect(pods.every((pod) => pod.ready && pod.node === 'records-node'), JSON.stringify(pods)).to.equal(true);
  const image = JSON.parse(must(kubectl(['get', 'deployment', 'records', '-n', 'records', '-o', 'json']), 'reading the Deployment')).spec.template.spec.containers[0].image;
  expect(image, 'pinned by the release digest').to.match(/^ghcr\.io\/records\/records@sha256:[0-9a-f]{64}$/);
  expect(podsOf('records', 'app.kubernetes.io/instance=records-db').map((pod) => pod.ready)).to.deep.equal([true]);
  expect(pods.map((pod) => podGauge('records', pod.name, 'redis_up')), 'the managed Redis is unreachable from here').to.deep.equal(pods.map(() => 0));
}
