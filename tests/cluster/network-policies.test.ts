import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { expect } from 'chai';
import { helmTemplate, kustomize } from '../support/tools.js';
import { kubectl, must } from './cluster.js';
import { standIn, type Workload } from './pods.js';
import { apiServer, clearStandIns, dataAdmitsRecords, dns, expectedOf, OUTSIDE, outsidePorts, policiesOf, tcp, workloadOf } from './policy-probes.js';

/**
 * NetworkPolicies measured, not evaluated: the policies of the chart (its hook policies too), of
 * k8s/ (the default denies) and of the operator-run database are applied to the test cluster,
 * whose node enforces them (kube-router's NetworkPolicy controller, scripts/node). Pods carrying
 * the labels and named ports of each workload stand where the workload would (a policy selects
 * pods by labels, so the verdict is the one the workload gets) and listen on its ports; each flow
 * of docs/gitops.md's table is tried from inside a pod, and the observed matrix must equal the
 * expected one. "Outside the cluster" is an address of the cluster's network namespace that no
 * pod has (203.0.113.1, a documentation range), where this test listens.
 */

describe('NetworkPolicies, enforced on the real node: every flow of docs/gitops.md tried from inside a pod', function () {
  this.timeout(900_000);
  const servers: Server[] = [];
  const made: string[][] = [];

  before(async function () {
    must(kubectl(['apply', '--server-side', '--field-manager', 'records-test', '-k', 'k8s']), 'applying k8s/');
    for (const namespace of ['monitoring', 'other']) kubectl(['create', 'namespace', namespace]);
    // An address outside every pod, in the cluster's namespace (the suite runs there), with this
    // test listening on it: where an identity provider or the internet would be.
    const added = spawnSync('ip', ['addr', 'add', `${OUTSIDE}/32`, 'dev', 'records-peer'], { encoding: 'utf8' });
    expect(added.status, added.stderr).to.equal(0);
    for (const port of outsidePorts) {
      const server = createServer((socket) => socket.end());
      await new Promise<void>((resolve) => server.listen(port, OUTSIDE, resolve));
      servers.push(server);
    }
  });

  after(function () {
    for (const server of servers) server.close();
    spawnSync('ip', ['addr', 'del', `${OUTSIDE}/32`, 'dev', 'records-peer']);
    kubectl(['delete', 'pods', '--all-namespaces', '-l', 'records.test/stand-in=true', '--wait=false']);
    for (const undo of made.reverse()) kubectl(undo);
    kubectl(['delete', 'namespace', 'monitoring', 'other', '--wait=false', '--ignore-not-found']);
    must(kubectl(['delete', '-k', 'k8s', '--wait=true', '--timeout=300s', '--ignore-not-found']), 'removing k8s/');
  });

  it('with the chart\'s defaults (bundled MariaDB), its hook policies and k8s/\'s default denies', function () {
    const chart = helmTemplate();
    const remove = policiesOf(chart, 'records');
    try {
      const records = workloadOf(chart, 'Deployment', (n) => n === 'records');
      const mariadb = workloadOf(chart, 'StatefulSet', (n) => n === 'records-mariadb');
      const migrate = workloadOf(chart, 'Job', (n) => n.startsWith('records-migrate'));
      const initSecret = workloadOf(chart, 'Job', (n) => n === 'records-init-secret');
      const test = workloadOf(chart, 'Pod', (n) => n === 'records-test');
      const kong: Workload = { name: 'Kong', namespace: 'kong', labels: { 'app.kubernetes.io/name': 'kong' }, ports: { proxy: 8000 } };
      const prometheus: Workload = { name: 'Prometheus', namespace: 'monitoring', labels: { 'app.kubernetes.io/name': 'prometheus' }, ports: {} };
      const stranger: Workload = { name: 'a pod of another team', namespace: 'other', labels: { app: 'other' }, ports: {} };
      const ip = {
        records: standIn(records, 'records'),
        mariadb: standIn(mariadb, 'mariadb'),
        kong: standIn(kong, 'kong'),
      };
      const pod = { migrate: standIn(migrate, 'migrate') && 'migrate', initSecret: standIn(initSecret, 'init-secret') && 'init-secret', test: standIn(test, 'test') && 'test', prometheus: standIn(prometheus, 'prometheus') && 'prometheus', stranger: standIn(stranger, 'stranger') && 'stranger' };
      const api = apiServer();
      const observed = {
        'Kong -> records :8000': tcp('kong', 'kong', ip.records, 8000),
        'Prometheus -> records :8000': tcp('monitoring', pod.prometheus, ip.records, 8000),
        'helm test pod -> records :8000': tcp('records', pod.test, ip.records, 8000),
        'records -> MariaDB :3306': tcp('records', 'records', ip.mariadb, 3306),
        'migrations -> MariaDB :3306': tcp('records', pod.migrate, ip.mariadb, 3306),
        'records -> DNS': dns('records', 'records'),
        'migrations -> DNS': dns('records', pod.migrate),
        'init-secret -> DNS': dns('records', pod.initSecret),
        'helm test pod -> DNS': dns('records', pod.test),
        'init-secret -> API server :443': tcp('records', pod.initSecret, api, 443),
        // No issuers by default (the service trusts only its own tokens): no way out on 443.
        'records -> outside :443': tcp('records', 'records', OUTSIDE, 443),
        'another namespace -> records :8000': tcp('other', pod.stranger, ip.records, 8000),
        'another namespace -> MariaDB :3306': tcp('other', pod.stranger, ip.mariadb, 3306),
        'Kong -> MariaDB :3306': tcp('kong', 'kong', ip.mariadb, 3306),
        'helm test pod -> MariaDB :3306': tcp('records', pod.test, ip.mariadb, 3306),
        'init-secret -> MariaDB :3306': tcp('records', pod.initSecret, ip.mariadb, 3306),
        'migrations -> records :8000': tcp('records', pod.migrate, ip.records, 8000),
        'MariaDB -> records :8000': tcp('records', 'mariadb', ip.records, 8000),
        'MariaDB -> outside :443': tcp('records', 'mariadb', OUTSIDE, 443),
        'MariaDB -> DNS': dns('records', 'mariadb'),
        'records -> API server :443': tcp('records', 'records', api, 443),
        'helm test pod -> Kong :8000': tcp('records', pod.test, ip.kong, 8000),
        'helm test pod -> outside :443': tcp('records', pod.test, OUTSIDE, 443),
        // DNS only to the cluster's resolver: port 53 elsewhere would be a way out of any kind.
        'records -> outside :53': tcp('records', 'records', OUTSIDE, 53),
        'migrations -> outside :53': tcp('records', pod.migrate, OUTSIDE, 53),
        'init-secret -> outside :53': tcp('records', pod.initSecret, OUTSIDE, 53),
        'helm test pod -> outside :53': tcp('records', pod.test, OUTSIDE, 53),
      };
      expect(observed).to.deep.equal(expectedOf(observed, ['Kong -> records :8000', 'Prometheus -> records :8000', 'helm test pod -> records :8000', 'records -> MariaDB :3306', 'migrations -> MariaDB :3306',
        'records -> DNS', 'migrations -> DNS', 'init-secret -> DNS', 'helm test pod -> DNS', 'init-secret -> API server :443']));
    } finally {
      clearStandIns();
      remove();
    }
  });

  it('with staging\'s values: the service reaches Valkey in data, not a stranger on the same port', function () {
    const chart = helmTemplate(['argocd/values/records/staging.yaml']);
    const removeChart = policiesOf(chart, 'records');
    const removeData = dataAdmitsRecords();
    try {
      standIn(workloadOf(chart, 'Deployment', (n) => n === 'records'), 'records');
      const valkey = standIn({ name: 'Valkey', namespace: 'data', labels: { 'app.kubernetes.io/name': 'valkey', 'app.kubernetes.io/instance': 'valkey' }, ports: { redis: 6379 } }, 'valkey');
      const stranger = standIn({ name: 'a Redis of another team', namespace: 'other', labels: { app: 'redis' }, ports: { redis: 6379 } }, 'stranger');
      const observed = {
        'records -> Valkey (data) :6379': tcp('records', 'records', valkey, 6379),
        'records -> a Redis in another namespace :6379': tcp('records', 'records', stranger, 6379),
        // Staging trusts an issuer: its key set is fetched on 443 from a public address.
        'records -> outside :443 (an issuer\'s JWKS)': tcp('records', 'records', OUTSIDE, 443),
      };
      expect(observed).to.deep.equal(expectedOf(observed, ['records -> Valkey (data) :6379', 'records -> outside :443 (an issuer\'s JWKS)']));
    } finally {
      clearStandIns();
      removeData();
      removeChart();
    }
  });

  it('with an external database (ci/keda-off-values.yaml): the migrations hook and the service reach the stores the values name, and nothing else', function () {
    const chart = helmTemplate(['charts/records/ci/keda-off-values.yaml']);
    const removeChart = policiesOf(chart, 'records');
    const removeData = dataAdmitsRecords();
    try {
      standIn(workloadOf(chart, 'Deployment', (n) => n === 'records'), 'records');
      standIn(workloadOf(chart, 'Job', (n) => n.startsWith('records-migrate')), 'migrate');
      const mysql = standIn({ name: 'MySQL', namespace: 'data', labels: { 'app.kubernetes.io/name': 'mysql' }, ports: { mysql: 3306 } }, 'mysql');
      const redis = standIn({ name: 'Redis', namespace: 'data', labels: { 'app.kubernetes.io/name': 'redis' }, ports: { redis: 6379 } }, 'redis');
      const elsewhere = standIn({ name: 'stores of another team', namespace: 'other', labels: { app: 'db' }, ports: { mysql: 3306, redis: 6379 } }, 'elsewhere');
      const observed = {
        'migrations hook -> DNS': dns('records', 'migrate'),
        'migrations hook -> database (data) :3306': tcp('records', 'migrate', mysql, 3306),
        'migrations hook -> another namespace :3306': tcp('records', 'migrate', elsewhere, 3306),
        'migrations hook -> outside :443': tcp('records', 'migrate', OUTSIDE, 443),
        'migrations hook -> outside :53': tcp('records', 'migrate', OUTSIDE, 53),
        'records -> database (data) :3306': tcp('records', 'records', mysql, 3306),
        'records -> Redis (data) :6379': tcp('records', 'records', redis, 6379),
        'records -> another namespace :3306': tcp('records', 'records', elsewhere, 3306),
        'records -> another namespace :6379': tcp('records', 'records', elsewhere, 6379),
      };
      expect(observed).to.deep.equal(expectedOf(observed, ['migrations hook -> DNS', 'migrations hook -> database (data) :3306', 'records -> database (data) :3306', 'records -> Redis (data) :6379']));
    } finally {
      clearStandIns();
      removeData();
      removeChart();
    }
  });

  it('with the operator-run database (argocd/database/production): Galera reaches the API server, its peers and the cluster\'s DNS, and nothing else', function () {
    const database = kustomize('argocd/database/production');
    const remove = policiesOf(database, 'records');
    try {
      const galera: Workload = { name: 'a Galera node', namespace: 'records', labels: { 'app.kubernetes.io/name': 'mariadb', 'app.kubernetes.io/instance': 'records-db' }, ports: { mysql: 3306, galera: 4567 } };
      standIn(galera, 'galera-0');
      const peer = standIn(galera, 'galera-1');
      const api = apiServer();
      const observed = {
        'Galera -> API server :443': tcp('records', 'galera-0', api, 443),
        'Galera -> its peer :4567 (replication)': tcp('records', 'galera-0', peer, 4567),
        'Galera -> DNS': dns('records', 'galera-0'),
        'Galera -> outside :80': tcp('records', 'galera-0', OUTSIDE, 80),
        'Galera -> outside :53': tcp('records', 'galera-0', OUTSIDE, 53),
      };
      expect(observed).to.deep.equal(expectedOf(observed, ['Galera -> API server :443', 'Galera -> its peer :4567 (replication)', 'Galera -> DNS']));
    } finally {
      clearStandIns();
      remove();
    }
  });
});
