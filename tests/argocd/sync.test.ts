import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { kubectl, must } from '../cluster/cluster.js';
import { loopingClient, standIn } from '../cluster/pods.js';
import { renderApps, type K8sObject } from '../support/tools.js';
import { applications, asYaml, eventually, isConverged, repositoryOfWorkingTree, Repository, waveOf, type Application } from './argocd.js';
import { scaleUpAndBack } from './autoscaling.js';
import { apply, GITHUB, IN_CLUSTER, installPrerequisites, podGauge, podsOf, projects, pushMirrors, replicaSetsOf, rootApplication, STAGING_TEST_VALUES, withProductionRelease, withStagingTestValues } from './deploy.js';
import { OUTSIDE_THE_CLUSTER, playedFor } from './stand-ins.js';

/**
 * Argo CD (application controller and repo server built from its Go module) syncs this repository
 * on the test cluster, the way a user deploys it: apply the projects and a root Application, and
 * let it converge (deploy.ts says what is redirected, and how). Staging's pods run on the real
 * node: KEDA built from its module, the records service from this checkout's image, its database
 * and Valkey, Kong's played proxy; stand-ins.ts says what is played and why.
 */

const byName = (apps: Application[], name: string) => apps.find((app) => app.metadata.name === name);
const seconds = (time: string | undefined) => (time ? Date.parse(time) / 1000 : Number.NaN);

describe('Argo CD syncs this repository on a real control plane', function () {
  this.timeout(900_000);
  const played = new Set<string>();
  let controllers: ReturnType<typeof playedFor> = [];
  const standIns = () => controllers.flatMap((controller) => controller.play()).forEach((written) => played.add(written));

  let records: Repository;
  let mirrors: Repository;

  /**
   * What a user does, redirected: the mirrors, the prerequisites, the projects, the root
   * Application. Returns the names of the Applications that must converge.
   */
  function deploy(environment: string): string[] {
    console.log(`      redirected by the root's values: repoURL ${GITHUB} -> ${records.url}, destinationServer -> ${IN_CLUSTER}`);
    for (const line of pushMirrors(mirrors, environment)) console.log(`      ${line}`);
    controllers = playedFor(environment);
    for (const standIn of controllers) console.log(`      played by the test: ${standIn.controller} (${standIn.writes})`);
    installPrerequisites(environment);
    apply(projects(records, mirrors), 'applying the projects');
    apply([rootApplication(environment, records, mirrors)], `applying the ${environment} root Application`);
    return [`root-${environment}`, ...renderApps(environment).map((app) => app.metadata.name)];
  }

  /** Waits until exactly `expected` exist, each Synced and Healthy, playing the stand-ins meanwhile. */
  async function allConverged(expected: string[]): Promise<Application[]> {
    const apps = await eventually(`${expected.join(', ')} Synced and Healthy`, 600, () => {
      const now = applications();
      return expected.every((name) => byName(now, name) && isConverged(byName(now, name)!)) && now;
    }, standIns);
    expect(apps.map((app) => app.metadata.name).sort()).to.deep.equal([...expected].sort());
    return apps;
  }

  before(function () {
    records = repositoryOfWorkingTree('records');
    console.log(`      ${withStagingTestValues(records)}`);
    records.commit('this working tree, with test values');
    mirrors = new Repository('mirrors');
  });

  after(function () {
    records?.dispose();
    mirrors?.dispose();
  });

  describe('staging: the projects and the root Application, applied as a user does', function () {
    let expected: string[];

    before(function () {
      expected = deploy('staging');
    });

    it('brings every Application to Synced and Healthy, wave by wave, with migrations run as a PreSync hook', async function () {
      const apps = await allConverged(expected);

      // The root creates the Applications of a wave only once every earlier wave is Synced and
      // Healthy: each one's creation follows the first completed sync of every earlier one.
      const children = apps.filter((app) => app.metadata.name !== 'root-staging');
      expect(new Set(children.map(waveOf)).size, 'distinct waves').to.be.greaterThan(3);
      const order: string[] = [];
      for (const earlier of children) {
        for (const later of children.filter((app) => waveOf(app) > waveOf(earlier))) {
          const synced = seconds(earlier.status?.history?.[0]?.deployedAt);
          const created = seconds(later.metadata.creationTimestamp);
          if (!(synced <= created)) order.push(`${later.metadata.name} (wave ${waveOf(later)}) created at ${later.metadata.creationTimestamp}, before ${earlier.metadata.name} (wave ${waveOf(earlier)}) first synced at ${earlier.status?.history?.[0]?.deployedAt}`);
        }
      }
      expect(order, 'wave order').to.deep.equal([]);

      // The records Application's first sync ran the chart's pre-install hooks as PreSync: the
      // signing-key Secret, then migrations, both Succeeded, and the Deployment came after.
      const service = byName(apps, 'records-staging')!;
      const firstSync = JSON.parse(must(kubectl(['get', 'job', 'records-migrate', '-n', 'records', '-o', 'json']), 'reading the migrations Job'));
      expect(firstSync.metadata.annotations['helm.sh/hook']).to.contain('pre-install');
      expect(firstSync.status.succeeded).to.equal(1);
      const deployment = JSON.parse(must(kubectl(['get', 'deployment', 'records', '-n', 'records', '-o', 'json']), 'reading the Deployment'));
      expect(seconds(firstSync.status.completionTime)).to.be.at.most(seconds(deployment.metadata.creationTimestamp));
      const hooks = (service.status?.operationState?.syncResult?.resources ?? []).filter((resource) => resource.hookType);
      expect(hooks.map((hook) => `${hook.kind}/${hook.name} ${hook.hookType} ${hook.hookPhase}`)).to.include.members(['Job/records-init-secret PreSync Succeeded', 'Job/records-migrate PreSync Succeeded']);

      // Each stand-in wrote what its controller would have, or the test would not need it.
      expect([...played].sort()).to.include.members(['MariaDB/records-db', 'Secret/valkey-users', 'Service/kong-kong-proxy']);
    });

    it('runs it on the real node: KEDA made the HPA and serves external metrics, the records pods serve from their database', function () {
      // KEDA's own status and objects: the ScaledObject Ready, its HPA, the metrics API available.
      const scaledObject = JSON.parse(must(kubectl(['get', 'scaledobject', 'records', '-n', 'records', '-o', 'json']), 'reading the ScaledObject'));
      const ready = scaledObject.status.conditions.find((condition: { type: string }) => condition.type === 'Ready');
      expect(ready, JSON.stringify(scaledObject.status)).to.include({ status: 'True', reason: 'ScaledObjectReady' });
      expect(scaledObject.status.hpaName).to.equal('keda-hpa-records');
      const hpa = JSON.parse(must(kubectl(['get', 'hpa', 'keda-hpa-records', '-n', 'records', '-o', 'json']), 'reading the HPA KEDA made'));
      expect(hpa.metadata.ownerReferences.map((owner: { kind: string; name: string }) => `${owner.kind}/${owner.name}`)).to.deep.equal(['ScaledObject/records']);
      const apiService = JSON.parse(must(kubectl(['get', 'apiservice', 'v1beta1.external.metrics.k8s.io', '-o', 'json']), 'reading the APIService'));
      expect(apiService.status.conditions.find((condition: { type: string }) => condition.type === 'Available').status).to.equal('True');
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

      // The records pods: on the real node, Ready by their probe (the database answers, migrations current).
      const pods = podsOf('records', 'app.kubernetes.io/name=records');
      expect(pods.length).to.be.at.least(2);
      expect(pods.every((pod) => pod.ready && pod.node === 'records-node'), JSON.stringify(pods)).to.equal(true);
      const database = podsOf('records', 'app.kubernetes.io/instance=records-db');
      expect(database.map((pod) => pod.ready && pod.node)).to.deep.equal(['records-node']);
      expect(must(kubectl(['logs', '-n', 'records', 'job/records-migrate']), 'migration logs')).to.match(/"engine":"mysql","msg":"migrations applied"/);
      // Their cache: Valkey, as the records ACL user with the password from valkey-users.
      expect(pods.map((pod) => podGauge('records', pod.name, 'redis_up')), 'redis_up of each pod').to.deep.equal(pods.map(() => 1));
    });

    /** A token the records service accepts (test values: it trusts the tokens it mints), minted as NOTES say. */
    const token = () => must(kubectl(['exec', '-n', 'records', 'deploy/records', '--', 'node', 'service/dist/main.js', 'token', '--aud', 'records', '--scope', 'records:read records:write', '--ttl', '3600']), 'minting a token').trim();
    const base = 'http://records.records.svc.cluster.local:8000';

    it('syncs a new commit by itself and rolls the records pods while a client pod reads, with no failed request', async function () {
      const client = 'argocd-client';
      standIn({ name: 'a client', namespace: 'kong', labels: { 'app.kubernetes.io/name': 'records-client' }, ports: {} }, client);
      const seed = `fetch(process.argv.at(-2) + '/v1/bulk', { method: 'POST', headers: { authorization: 'Bearer ' + process.argv.at(-1), 'content-type': 'application/json' },
        body: JSON.stringify({ items: [{ title: 'Maison de confort', uri: 'https://example.org/1', date: '2015-06-01' }] }) }).then((r) => r.json()).then((body) => console.log(JSON.stringify(body)))`;
      const seeded = JSON.parse(must(kubectl(['exec', '-n', 'kong', client, '--', 'node', '-e', seed, '--', base, token()]), 'writing the record the client reads'));
      expect(seeded.ids, 'the client reads /v1/1').to.deep.equal([1]);

      const before = replicaSetsOf('records', 'records');
      const valuesFile = 'argocd/values/records/staging.yaml';
      const looping = loopingClient('kong', client, base, token(), ['get', 'search']);
      let counts: Awaited<ReturnType<typeof looping.stop>>;
      try {
        expect(records.read(valuesFile)).to.match(/^ {2}logLevel: debug$/m);
        records.write(valuesFile, records.read(valuesFile).replace(/^ {2}logLevel: debug$/m, '  logLevel: info'));
        const sha = records.commit('staging: log at info');
        await eventually(`records-staging synced at ${sha.slice(0, 7)} with its pods rolled`, 300, () => {
          const app = byName(applications(), 'records-staging');
          if (!app || !isConverged(app) || !(app.status?.sync?.revisions ?? []).includes(sha)) return false;
          const now = replicaSetsOf('records', 'records');
          const current = now.find((set) => set.replicas > 0);
          return current && !before.some((set) => set.hash === current.hash) && now.every((set) => set === current || set.replicas === 0) && current.ready === current.replicas;
        }, standIns);
      } finally {
        counts = await looping.stop();
        kubectl(['delete', 'pod', client, '-n', 'kong', '--wait=false']);
      }
      expect(counts.failed, `${counts.ok} requests answered 200`).to.deep.equal([]);
      expect(counts.ok).to.be.greaterThan(20);
      const config = JSON.parse(must(kubectl(['get', 'configmap', 'records', '-n', 'records', '-o', 'json']), 'reading the ConfigMap'));
      expect(config.data.LOG_LEVEL).to.equal('info');
      const pods = podsOf('records', 'app.kubernetes.io/name=records');
      const current = replicaSetsOf('records', 'records').find((set) => set.replicas > 0)!;
      expect(pods.length).to.be.greaterThan(0);
      expect(pods.every((pod) => pod.hash === current.hash), 'every pod from the new template').to.equal(true);
    });

    it("scales on KEDA's request-rate query: from the minimum to at least 3 Ready pods under Locust's load, and back", async function () {
      // Each user reconnects every 10 requests: the Service balances connections, so new pods get users.
      const load = { users: 8, userRate: 10, seconds: 480, requestsPerConnection: 10 };
      const settings = { ...STAGING_TEST_VALUES.keda, minReplicas: 2, prometheusScrape: '5s', locust: load };
      const run = await scaleUpAndBack({ base, token: token(), min: 2, peak: 3, load, settings });
      console.log(run.table.replace(/^/gm, '      '));
      const peak = Math.max(...run.rows.map((row) => row.ready));
      expect(peak, 'Ready pods at the peak').to.be.at.least(3);
      expect(Object.keys(run.servedAtPeak).length, JSON.stringify(run.servedAtPeak)).to.be.at.least(3);
      expect(Object.values(run.servedAtPeak).every((count) => count > 0), 'every Ready pod answered API requests').to.equal(true);
      expect(run.failures, "Locust's failed requests").to.equal(0);
      expect(run.final).to.include({ replicas: 2, ready: 2 });
      // The scale-up followed the request rate KEDA read: above the target per pod before the first new replica.
      const firstUp = run.rows.findIndex((row) => row.replicas > 2);
      expect(run.rows.slice(0, firstUp + 1).some((row) => (row.keda ?? 0) > STAGING_TEST_VALUES.keda.prometheus.requestsPerSecondPerPod), 'the rate above the target before scaling').to.equal(true);
    });

    it('prunes a resource deleted from the repository, and creates it again when it comes back', async function () {
      const files = ['argocd/database/base/network-policy.yaml', 'argocd/database/base/kustomization.yaml'];
      expect(kubectl(['get', 'networkpolicy', 'records-db', '-n', 'records']).status).to.equal(0);
      records.remove(files[0]!);
      records.write(files[1]!, records.read(files[1]!).replace(/^resources:\n {2}- network-policy\.yaml\n/m, 'resources: []\n'));
      const sha = records.commit('database: drop the NetworkPolicy');
      await eventually('NetworkPolicy records-db pruned', 300, () => {
        const app = byName(applications(), 'database-staging');
        return app && isConverged(app) && app.status?.sync?.revision === sha && kubectl(['get', 'networkpolicy', 'records-db', '-n', 'records']).status !== 0;
      }, standIns);
      // Back as committed: without it, the namespace's default deny cuts the database off.
      for (const file of files) records.write(file, readFileSync(file, 'utf8'));
      const back = records.commit('database: the NetworkPolicy again');
      await eventually('NetworkPolicy records-db back', 300, () => {
        const app = byName(applications(), 'database-staging');
        return app && isConverged(app) && app.status?.sync?.revision === back && kubectl(['get', 'networkpolicy', 'records-db', '-n', 'records']).status === 0;
      }, standIns);
    });

    it('reverts a hand edit of a live object (self-heal)', async function () {
      const declared = JSON.parse(must(kubectl(['get', 'scaledobject', 'records', '-n', 'records', '-o', 'json']), 'reading the ScaledObject')).spec.maxReplicaCount;
      expect(declared).to.equal(6);
      must(kubectl(['patch', 'scaledobject', 'records', '-n', 'records', '--type', 'merge', '-p', '{"spec":{"maxReplicaCount":99}}']), 'editing the ScaledObject by hand');
      await eventually('the hand edit reverted', 180, () => {
        const live = JSON.parse(must(kubectl(['get', 'scaledobject', 'records', '-n', 'records', '-o', 'json']), 'reading the ScaledObject'));
        return live.spec.maxReplicaCount === declared;
      }, standIns);
    });

    /** An Application a user might try: `path` of this repository, auto-synced, into `namespace` here. */
    const attempt = (name: string, project: string, path: string, namespace: string): K8sObject => ({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name, namespace: 'argocd' },
      spec: { project, source: { repoURL: records.url, targetRevision: 'main', path }, destination: { server: IN_CLUSTER, namespace }, syncPolicy: { automated: {} } },
    });

    it("refuses what a project does not permit, with Argo CD's message", async function () {
      // A destination outside the project: refused before anything is rendered.
      // Kinds outside the project (k8s/ holds Namespaces and cluster-wide policy): the sync fails.
      apply([attempt('escape-destination', 'records-apps', 'argocd/database/staging', 'kube-system'), attempt('escape-kinds', 'records-apps', 'k8s', 'records')], 'applying the Applications');
      try {
        const messages = await eventually('both refused', 180, () => {
          const apps = applications();
          const destination = (byName(apps, 'escape-destination')?.status?.conditions ?? []).map((condition) => condition.message).join('\n');
          const kinds = byName(apps, 'escape-kinds')?.status?.operationState?.message ?? '';
          return destination && /not permitted/.test(kinds) ? { destination, kinds } : false;
        });
        expect(messages.destination).to.contain("application destination server 'https://kubernetes.default.svc' and namespace 'kube-system' do not match any of the allowed destinations in project 'records-apps'");
        expect(messages.kinds).to.contain(':Namespace is not permitted in project records-apps');
        expect(kubectl(['get', 'mariadb', 'records-db', '-n', 'kube-system']).status, 'nothing deployed into kube-system').to.not.equal(0);
      } finally {
        kubectl(['delete', 'application', 'escape-destination', 'escape-kinds', '-n', 'argocd', '--wait=true']);
      }
    });

    it('refuses an Application naming the locked default project, and a ClusterRoleBinding no upstream chart names', async function () {
      // A binding of cluster-admin under a name no upstream chart uses, in a path of this repository.
      records.write('escape/binding.yaml', asYaml([{
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'escape-admin' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
        subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: 'kong' }],
      }]));
      records.commit('an escape attempt');
      apply([attempt('escape-default', 'default', 'argocd/database/staging', 'records'), attempt('escape-binding', 'records-platform', 'escape', 'kong')], 'applying the Applications');
      try {
        const messages = await eventually('both refused', 180, () => {
          const apps = applications();
          const viaDefault = (byName(apps, 'escape-default')?.status?.conditions ?? []).map((condition) => condition.message).join('\n');
          const binding = byName(apps, 'escape-binding')?.status?.operationState?.message ?? '';
          return viaDefault && /not permitted/.test(binding) ? { viaDefault, binding } : false;
        });
        expect(messages.viaDefault).to.match(/in project '?default'?/);
        expect(messages.binding).to.match(/ClusterRoleBinding.*not permitted in project records-platform/);
        expect(kubectl(['get', 'clusterrolebinding', 'escape-admin']).status, 'no binding made').to.not.equal(0);
      } finally {
        kubectl(['delete', 'application', 'escape-default', 'escape-binding', '-n', 'argocd', '--wait=true']);
      }
    });
  });

  describe('production: the root Application pinned to a release tag, after staging is deleted', function () {
    let pinned: string;
    let expected: string[];

    before(async function () {
      // Deleting the staging root removes every staging Application and what each deployed
      // (their finalizers), except the namespaces (Delete=false): the cluster is free for production.
      must(kubectl(['delete', 'application', 'root-staging', '-n', 'argocd', '--wait=false']), 'deleting the staging root');
      await eventually('every staging Application gone', 600, () => applications().every((app) => !app.metadata.name.endsWith('-staging')));
      expect(kubectl(['get', 'deployment', 'records', '-n', 'records']).status, 'the staging Deployment removed').to.not.equal(0);
      // A StatefulSet's volumes outlive it: staging's database files go too, as whoever frees a
      // cluster for another environment deletes them (production's database starts empty).
      must(kubectl(['delete', 'pvc', '--all', '-n', 'records', '--wait=true', '--timeout', '120s']), "deleting staging's database volume");

      // The tag production pins (argocd/root/production.yaml), then main moves on past it. The
      // release carries the image digest.
      console.log(`      ${withProductionRelease(records)}`);
      pinned = records.commit('release');
      records.tag('v0.1.0', pinned);
      const valuesFile = 'argocd/values/records/production.yaml';
      records.write(valuesFile, records.read(valuesFile).replace(/^ {2}logLevel: info$/m, '  logLevel: debug'));
      records.commit('production: log at debug (not released)');
      expected = deploy('production');
    });

    it('brings every Application to Synced and Healthy at the pinned tag, not at the branch', async function () {
      const apps = await allConverged(expected);
      expect(expected.some((name) => name.startsWith('valkey')), 'no in-cluster Valkey in production').to.equal(false);
      for (const app of apps) {
        const sources = app.spec.sources ?? [app.spec.source];
        const revisions = app.status?.sync?.revisions ?? [app.status?.sync?.revision];
        sources.forEach((source: { repoURL: string }, index: number) => {
          if (source.repoURL === records.url) expect(revisions[index], `${app.metadata.name} source ${index}`).to.equal(pinned);
        });
      }
      const config = JSON.parse(must(kubectl(['get', 'configmap', 'records', '-n', 'records', '-o', 'json']), 'reading the ConfigMap'));
      expect(config.data.LOG_LEVEL, "the tag's values, not main's").to.equal('info');
    });

    it('runs production on the real node without what lives outside the cluster: the records pods serve from the database, the cache off', function () {
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
    });
  });
});
