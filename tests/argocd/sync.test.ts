import { readFileSync } from 'node:fs';
import { ENVIRONMENTS } from '../../tooling/environments.js';
import { expect } from 'chai';
import { parse } from 'yaml';
import { asKubectlInput, kubectl, must } from '../cluster/cluster.js';
import { kongRender, parseObjects, renderApps, upstreamObjects, type K8sObject } from '../support/tools.js';
import { crdFiles } from '../../tooling/upstream-mirror.js';
import { applications, asYaml, eventually, isConverged, repositoryOfWorkingTree, Repository, waveOf, type Application, type LiveObject } from './argocd.js';
import { leftOut, OUTSIDE_THE_CLUSTER, playedNodesOnly, playStandIns, STAND_INS } from './stand-ins.js';

/**
 * Argo CD (application controller and repo server built from its Go module) syncs this repository
 * on the test control plane, the way a user deploys it: apply the projects and a root Application,
 * and let it converge. The repository is a commit of this working tree on a git daemon on loopback.
 *
 * Redirected, by values of the root Application, never by edits of committed files:
 *  - every Application's repoURL: https://github.com/records/records.git -> the test's git daemon;
 *  - every destination: the environment's API server -> https://kubernetes.default.svc (this one);
 *  - every upstream chart (KEDA, Kong, mariadb-operator and its CRDs, Valkey): its chart
 *    repository -> a directory of a mirror repository on the same daemon holding what the chart
 *    renders at its pinned version (the upstream mirror, tools/upstream.yaml), minus LEFT_OUT_OF_MIRRORS.
 * The projects get the test's repositories added to their sourceRepos, as a user adds a mirror.
 * Controllers that run in containers are played by STAND_INS (status writes only).
 */

const versions = parse(readFileSync('argocd/apps/values.yaml', 'utf8')).charts as Record<string, { repoURL: string; chart: string; version: string }>;
const GITHUB = 'https://github.com/records/records.git';
const IN_CLUSTER = 'https://kubernetes.default.svc';

/** What each upstream chart's Application syncs instead of its chart: a mirror directory. */
function mirrorsFor(environment: string): Record<string, { path: string; objects: K8sObject[]; note: string }> {
  const keda = `keda-${versions.keda!.version}`;
  const kong = `kong-${versions.kong!.version}`;
  const operator = `mariadb-operator-${versions.mariadbOperator!.version}`;
  const valkey = `valkey-${versions.valkey!.version}`;
  const kongRendered = kongRender(environment);
  return {
    keda: { path: keda, objects: [...upstreamObjects(`${keda}/crds.yaml`), ...upstreamObjects(`${keda}/rendered-defaults.yaml`)], note: 'its CRDs and what it renders by default (the Application passes no values)' },
    kong: { path: `${kong}-${environment}`, objects: kongRendered.objects, note: kongRendered.note },
    mariadbOperatorCrds: { path: `mariadb-operator-crds-${versions.mariadbOperatorCrds!.version}`, objects: upstreamObjects(`${operator}/crds.yaml`), note: 'its CRDs' },
    mariadbOperator: { path: operator, objects: upstreamObjects(`${operator}/rendered-defaults.yaml`), note: 'what it renders by default, CRDs off (as argocd/values/mariadb-operator sets)' },
    valkey: { path: valkey, objects: upstreamObjects(`${valkey}/rendered-defaults.yaml`), note: 'what it renders by default (without the ACL values of argocd/values/valkey)' },
  };
}

function pushMirrors(mirrors: Repository, environment: string): string[] {
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
function projects(records: Repository, mirrors: Repository): K8sObject[] {
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
function rootApplication(environment: string, records: Repository, mirrors: Repository): K8sObject {
  const [root] = parseObjects(readFileSync(`argocd/root/${environment}.yaml`, 'utf8'));
  root!.spec.source.repoURL = records.url;
  root!.spec.source.helm.valuesObject = {
    repoURL: records.url,
    destinationServer: IN_CLUSTER,
    charts: Object.fromEntries(Object.entries(mirrorsFor(environment)).map(([key, mirror]) => [key, { mirror: { repoURL: mirrors.url, targetRevision: 'main', path: mirror.path } }])),
  };
  return root!;
}

const apply = (objects: K8sObject[], what: string) => must(kubectl(['apply', '-f', '-'], asKubectlInput(objects)), what);

/** Prerequisites docs/gitops.md asks of the cluster: the CRDs of cert-manager and, in production, of the Prometheus Operator. */
function installPrerequisites(environment: string): void {
  const wanted = parse(readFileSync(`argocd/apps/values-${environment}.yaml`, 'utf8')).prerequisites;
  const files = crdFiles().filter((file) => (wanted.certManagerCRDs && file.includes('/cert-manager')) || (wanted.prometheusOperatorCRDs && file.includes('/prometheus-operator')));
  must(kubectl(['apply', '--server-side', '--field-manager', 'records-test', ...files.flatMap((file) => ['-f', file])]), 'applying prerequisite CRDs');
}

/** The ReplicaSets of a Deployment: template hash, desired and ready replicas. */
function replicaSetsOf(namespace: string, deployment: string): Array<{ hash: string; replicas: number; ready: number }> {
  const sets = JSON.parse(must(kubectl(['get', 'replicasets', '-n', namespace, '-o', 'json']), 'listing ReplicaSets')).items as LiveObject[];
  return sets
    .filter((set) => set.metadata.ownerReferences?.some((owner) => owner.kind === 'Deployment' && owner.name === deployment))
    .map((set) => ({ hash: set.metadata.labels?.['pod-template-hash'] ?? '', replicas: set.spec.replicas ?? 0, ready: set.status?.readyReplicas ?? 0 }));
}

function podsOf(namespace: string, selector: string): Array<{ name: string; hash: string }> {
  const pods = JSON.parse(must(kubectl(['get', 'pods', '-n', namespace, '-l', selector, '-o', 'json']), 'listing pods')).items as LiveObject[];
  return pods.filter((pod) => !pod.metadata.deletionTimestamp).map((pod) => ({ name: pod.metadata.name, hash: pod.metadata.labels?.['pod-template-hash'] ?? '' }));
}

const byName = (apps: Application[], name: string) => apps.find((app) => app.metadata.name === name);
const seconds = (time: string | undefined) => (time ? Date.parse(time) / 1000 : Number.NaN);

describe('Argo CD syncs this repository on a real control plane', function () {
  this.timeout(900_000);
  const played = new Set<string>();
  const standIns = () => playStandIns().forEach((written) => played.add(written));

  let records: Repository;
  let mirrors: Repository;

  /**
   * What a user does, redirected: the mirrors, the prerequisites, the projects, the root
   * Application. Returns the names of the Applications that must converge.
   */
  function deploy(environment: string): string[] {
    console.log(`      redirected by the root's values: repoURL ${GITHUB} -> ${records.url}, destinationServer -> ${IN_CLUSTER}`);
    for (const line of pushMirrors(mirrors, environment)) console.log(`      ${line}`);
    for (const standIn of STAND_INS) console.log(`      played by the test: ${standIn.controller} (${standIn.writes})`);
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
    playedNodesOnly();
    records = repositoryOfWorkingTree('records');
    records.commit('this working tree');
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
      expect([...played].sort()).to.include.members(['MariaDB/records-db', 'ScaledObject/records', 'Service/kong-kong-proxy']);
    });

    it('syncs a new commit by itself and rolls the records pods', async function () {
      const before = replicaSetsOf('records', 'records');
      const valuesFile = 'argocd/values/records/staging.yaml';
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
      const config = JSON.parse(must(kubectl(['get', 'configmap', 'records', '-n', 'records', '-o', 'json']), 'reading the ConfigMap'));
      expect(config.data.LOG_LEVEL).to.equal('info');
      const pods = podsOf('records', 'app.kubernetes.io/name=records');
      const current = replicaSetsOf('records', 'records').find((set) => set.replicas > 0)!;
      expect(pods.length).to.be.greaterThan(0);
      expect(pods.every((pod) => pod.hash === current.hash), 'every pod from the new template').to.equal(true);
    });

    it('prunes a resource deleted from the repository', async function () {
      expect(kubectl(['get', 'networkpolicy', 'records-db', '-n', 'records']).status).to.equal(0);
      records.remove('argocd/database/base/network-policy.yaml');
      records.write('argocd/database/base/kustomization.yaml', records.read('argocd/database/base/kustomization.yaml').replace(/^resources:\n {2}- network-policy\.yaml\n/m, 'resources: []\n'));
      const sha = records.commit('database: drop the NetworkPolicy');
      await eventually('NetworkPolicy records-db pruned', 300, () => {
        const app = byName(applications(), 'database-staging');
        return app && isConverged(app) && app.status?.sync?.revision === sha && kubectl(['get', 'networkpolicy', 'records-db', '-n', 'records']).status !== 0;
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

      // The tag production pins (argocd/root/production.yaml), then main moves on past it.
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

    it('names what cannot converge here: the stores and Secrets that live outside the cluster', function () {
      for (const outside of OUTSIDE_THE_CLUSTER.production) {
        expect(outside.absent(), outside.what).to.equal(true);
      }
    });
  });
});
