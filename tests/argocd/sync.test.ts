import { expect } from 'chai';
import { kubectl, must } from '../cluster/cluster.js';
import { mintToken, SERVICE_URL } from '../cluster/service-token.js';
import { renderApps } from '../support/tools.js';
import { applications, eventually, isConverged, repositoryOfWorkingTree, Repository, waveOf, type Application } from './argocd.js';
import { scaleUpAndBack } from './autoscaling.js';
import { expectPrunedAndBack, expectRolloutWithoutFailure } from './changes.js';
import { byName, expectKedaAdmitsAnUpgradeFromTheStandInHpa, expectKedaOnTheNode, expectPreSyncHooks, expectProductionOnTheNode, expectSourcesAt, expectStagingRecordsOnTheNode, waveOrderViolations } from './checks.js';
import { apply, GITHUB, IN_CLUSTER, installPrerequisites, projects, pushMirrors, rootApplication, STAGING_TEST_VALUES, withProductionRelease, withStagingTestValues } from './deploy.js';
import { expectRefusedDefaultAndBinding, expectRefusedOutsideProject } from './refusals.js';
import { playedFor } from './stand-ins.js';

/**
 * Argo CD (application controller and repo server built from its Go module) syncs this repository
 * on the test cluster, the way a user deploys it: apply the projects and a root Application, and
 * let it converge (deploy.ts says what is redirected, and how). Staging's pods run on the real
 * node: KEDA built from its module, the records service from this checkout's image, its database
 * and Valkey, Kong's played proxy; stand-ins.ts says what is played and why.
 */

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
      expect(waveOrderViolations(children), 'wave order').to.deep.equal([]);
      expectPreSyncHooks(byName(apps, 'records-staging')!);

      // Each stand-in wrote what its controller would have, or the test would not need it.
      expect([...played].sort()).to.include.members(['MariaDB/records-db', 'Secret/valkey-users', 'Service/kong-kong-proxy']);
    });

    it('runs it on the real node: KEDA made the HPA, serves external metrics and admits an upgrade from the stand-in HPA; the records pods serve from their database', async function () {
      expectKedaOnTheNode();
      await expectKedaAdmitsAnUpgradeFromTheStandInHpa();
      expectStagingRecordsOnTheNode();
    });

    it('syncs a new commit by itself and rolls the records pods while a client pod reads, with no failed request', async function () {
      await expectRolloutWithoutFailure(records, standIns);
    });

    it("scales on KEDA's request-rate query: from the minimum to at least 3 Ready pods under Locust's load, and back", async function () {
      // Each user reconnects every 10 requests: the Service balances connections, so new pods get users.
      const load = { users: 8, userRate: 10, seconds: 480, requestsPerConnection: 10 };
      const settings = { ...STAGING_TEST_VALUES.keda, minReplicas: 2, prometheusScrape: '5s', locust: load };
      // A caller per user, as independent clients are: one shared caller would meet its own
      // per-caller search limit (SEARCHES_PER_CALLER) whenever its searches bunch up.
      const tokens = Array.from({ length: load.users }, (_, user) => mintToken(`locust-user-${user}`));
      const run = await scaleUpAndBack({ base: SERVICE_URL, tokens, min: 2, peak: 3, load, settings });
      console.log(run.table.replace(/^/gm, '      '));
      const peak = Math.max(...run.rows.map((row) => row.ready));
      expect(peak, 'Ready pods at the peak').to.be.at.least(3);
      expect(Object.keys(run.servedAtPeak).length, JSON.stringify(run.servedAtPeak)).to.be.at.least(3);
      expect(Object.values(run.servedAtPeak).every((count) => count > 0), 'every Ready pod answered API requests').to.equal(true);
      expect(run.failures, `Locust's failed requests:\n${run.failed}`).to.equal(0);
      expect(run.final).to.include({ replicas: 2, ready: 2 });
      // The scale-up followed the request rate KEDA read: above the target per pod before the first new replica.
      const firstUp = run.rows.findIndex((row) => row.replicas > 2);
      expect(run.rows.slice(0, firstUp + 1).some((row) => (row.keda ?? 0) > STAGING_TEST_VALUES.keda.prometheus.requestsPerSecondPerPod), 'the rate above the target before scaling').to.equal(true);
    });

    it('prunes a resource deleted from the repository, and creates it again when it comes back', async function () {
      await expectPrunedAndBack(records, standIns);
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

    it("refuses what a project does not permit, with Argo CD's message", async function () {
      await expectRefusedOutsideProject(records);
    });

    it('refuses an Application naming the locked default project, and a ClusterRoleBinding no upstream chart names', async function () {
      await expectRefusedDefaultAndBinding(records);
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
      // The database object stays (Delete=false): its password Secrets with it, which open its volumes.
      expect(kubectl(['get', 'mariadb', 'records-db', '-n', 'records']).status, "staging's MariaDB kept").to.equal(0);
      expect(kubectl(['get', 'secret', 'records-db-password', '-n', 'records']).status, 'and its password Secret').to.equal(0);
      // A cascade leaves CRDs out: a deleted CRD would take every object of its kind in the cluster.
      for (const crd of ['scaledobjects.keda.sh', 'mariadbs.k8s.mariadb.com']) expect(kubectl(['get', 'crd', crd]).status, `the CRD ${crd} kept`).to.equal(0);
      // Whoever frees a cluster for another environment deletes it on purpose, and a StatefulSet's
      // volumes outlive it: staging's database files go too (production's database starts empty).
      must(kubectl(['delete', 'mariadb', 'records-db', '-n', 'records', '--wait=true', '--timeout', '120s']), "deleting staging's database");
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
      expectSourcesAt(apps, records.url, pinned);
      const config = JSON.parse(must(kubectl(['get', 'configmap', 'records', '-n', 'records', '-o', 'json']), 'reading the ConfigMap'));
      expect(config.data.LOG_LEVEL, "the tag's values, not main's").to.equal('info');
    });

    it('runs production on the real node without what lives outside the cluster: the records pods serve from the database, the cache off', function () {
      expectProductionOnTheNode();
    });
  });
});
