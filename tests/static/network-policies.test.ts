import { expect } from 'chai';
import { allowed, podsOf, type Endpoint } from '../support/network-policy.js';
import { helmTemplate, kustomize, upstreamObjects, type K8sObject } from '../support/tools.js';

/**
 * The flows between the pods a cluster holds, computed from the policies of the chart (hooks
 * included, as rendered) and of k8s/ together: namespace default-deny plus each pod's allow rules.
 * The table is the one in docs/gitops.md.
 */

const clusterPolicies = (): K8sObject[] => kustomize('k8s').filter((object) => object.kind === 'NetworkPolicy');

const outside = (name: string): Endpoint => ({ name }); // an address outside the cluster's pods
const kong: Endpoint = { name: 'kong proxy', namespace: 'kong', labels: { 'app.kubernetes.io/name': 'kong' } };
const prometheus: Endpoint = { name: 'prometheus', namespace: 'monitoring', labels: { 'app.kubernetes.io/name': 'prometheus' } };
const dns: Endpoint = { name: 'kube-dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } };
const stranger: Endpoint = { name: 'a pod of another team', namespace: 'other', labels: { app: 'other' } };

describe('network policies of the chart and k8s/ together', function () {
  this.timeout(60_000);

  describe('with the chart\'s defaults (bundled MariaDB)', function () {
    const chart = helmTemplate();
    const policies = [...clusterPolicies(), ...chart.filter((object) => object.kind === 'NetworkPolicy').map((policy) => ({ ...policy, metadata: { ...policy.metadata, namespace: 'records' } }))];
    const pods = podsOf(chart, 'records');
    const pod = (name: string) => pods.find((candidate) => candidate.name === name) as Endpoint;
    const valkey = podsOf(upstreamObjects('valkey-0.11.0/rendered-defaults.yaml'), 'data')[0] as Endpoint;
    const [records, mariadb, migrate, initSecret, test] = ['Deployment/records', 'StatefulSet/records-mariadb', pods.find((p) => p.name.startsWith('Job/records-migrate-'))?.name ?? '', 'Job/records-init-secret', 'Pod/records-test'].map(pod) as Endpoint[];

    const table: Array<[Endpoint, Endpoint, number, 'TCP' | 'UDP', boolean]> = [
      [kong, records!, 8000, 'TCP', true],
      [prometheus, records!, 8000, 'TCP', true],
      [test!, records!, 8000, 'TCP', true],
      [records!, mariadb!, 3306, 'TCP', true],
      [migrate!, mariadb!, 3306, 'TCP', true],
      [records!, dns, 53, 'UDP', true],
      [migrate!, dns, 53, 'UDP', true],
      [initSecret!, dns, 53, 'UDP', true],
      [test!, dns, 53, 'UDP', true],
      [initSecret!, outside('the Kubernetes API server'), 443, 'TCP', true],
      // By default Redis is reached in the release's namespace only; staging's values name data.
      [records!, valkey, 6379, 'TCP', false],
      [kong, valkey, 6379, 'TCP', true],
      [records!, outside('an identity provider\'s JWKS'), 443, 'TCP', true],
      [stranger, records!, 8000, 'TCP', false],
      [stranger, mariadb!, 3306, 'TCP', false],
      [kong, mariadb!, 3306, 'TCP', false],
      [test!, mariadb!, 3306, 'TCP', false],
      [migrate!, records!, 8000, 'TCP', false],
      [mariadb!, records!, 8000, 'TCP', false],
      [mariadb!, outside('the internet'), 443, 'TCP', false],
      [initSecret!, mariadb!, 3306, 'TCP', false],
      [test!, kong, 8000, 'TCP', false],
      [stranger, valkey, 6379, 'TCP', false],
    ];

    it('renders every pod the table names', function () {
      for (const endpoint of [records, mariadb, migrate, initSecret, test, valkey]) expect(endpoint?.labels, endpoint?.name).to.be.an('object');
    });

    for (const [from, to, port, protocol, expected] of table) {
      it(`${expected ? 'allows' : 'denies'} ${from.name} -> ${to.name}:${port}/${protocol}`, function () {
        expect(allowed(policies, { from, to, port, protocol })).to.equal(expected);
      });
    }

    it('denies everything in the records namespace without the chart\'s policies (the default-deny holds)', function () {
      expect(allowed(clusterPolicies(), { from: kong, to: records!, port: 8000 })).to.equal(false);
      expect(allowed(clusterPolicies(), { from: records!, to: dns, port: 53, protocol: 'UDP' })).to.equal(false);
    });
  });

  describe('with staging\'s values (Valkey in the data namespace)', function () {
    const chart = helmTemplate(['argocd/values/records/staging.yaml']);
    const policies = [...clusterPolicies(), ...chart.filter((object) => object.kind === 'NetworkPolicy').map((policy) => ({ ...policy, metadata: { ...policy.metadata, namespace: 'records' } }))];
    const records = podsOf(chart, 'records').find((candidate) => candidate.name === 'Deployment/records') as Endpoint;
    const valkey = podsOf(upstreamObjects('valkey-0.11.0/rendered-defaults.yaml'), 'data')[0] as Endpoint;

    it('lets the service reach Valkey, and not a stranger on the same port', function () {
      expect(allowed(policies, { from: records, to: valkey, port: 6379 })).to.equal(true);
      expect(allowed(policies, { from: records, to: stranger, port: 6379 })).to.equal(false);
    });
  });

  describe('with an external database (the migrations hook)', function () {
    const chart = helmTemplate(['charts/records/ci/keda-off-values.yaml']);
    const policies = [...clusterPolicies(), ...chart.filter((object) => object.kind === 'NetworkPolicy').map((policy) => ({ ...policy, metadata: { ...policy.metadata, namespace: 'records' } }))];
    const migrate = podsOf(chart, 'records').find((candidate) => candidate.name === 'Job/records-migrate') as Endpoint;
    const records = podsOf(chart, 'records').find((candidate) => candidate.name === 'Deployment/records') as Endpoint;
    // The values put the database and Redis in the data namespace (networkPolicy.*Peers).
    const mysql: Endpoint = { name: 'mysql', namespace: 'data', labels: { 'app.kubernetes.io/name': 'mysql' } };
    const redis: Endpoint = { name: 'redis', namespace: 'data', labels: { 'app.kubernetes.io/name': 'redis' } };
    const elsewhere: Endpoint = { name: 'a database of another team', namespace: 'other', labels: { app: 'db' } };
    // Whether those stores admit the pods is their namespace's policy, not this chart's: its egress alone here.
    const egress = policies.filter((policy) => policy.metadata.namespace === 'records');

    it('lets the pre-install hook resolve names and reach the database, and nothing else', function () {
      expect(allowed(policies, { from: migrate, to: dns, port: 53, protocol: 'UDP' })).to.equal(true);
      expect(allowed(egress, { from: migrate, to: mysql, port: 3306 })).to.equal(true);
      expect(allowed(egress, { from: migrate, to: elsewhere, port: 3306 })).to.equal(false);
      expect(allowed(policies, { from: migrate, to: outside('the internet'), port: 443 })).to.equal(false);
    });

    it('lets the service reach its database and Redis where the values name them, not another namespace on those ports', function () {
      expect(allowed(egress, { from: records, to: mysql, port: 3306 })).to.equal(true);
      expect(allowed(egress, { from: records, to: redis, port: 6379 })).to.equal(true);
      expect(allowed(egress, { from: records, to: elsewhere, port: 3306 })).to.equal(false);
      expect(allowed(egress, { from: records, to: { ...elsewhere, name: 'a Redis of another team' }, port: 6379 })).to.equal(false);
    });
  });
});

describe('network policies of the operator-run database (argocd/database) and k8s/ together', function () {
  const policies = [...clusterPolicies(), ...kustomize('argocd/database/production').filter((object) => object.kind === 'NetworkPolicy')];
  const galera: Endpoint = { name: 'a Galera node', namespace: 'records', labels: { 'app.kubernetes.io/name': 'mariadb', 'app.kubernetes.io/instance': 'records-db' } };
  const peer: Endpoint = { ...galera, name: 'another Galera node' };

  it('lets Galera\'s init container and agent reach the Kubernetes API, its peers and DNS, and nothing else', function () {
    for (const port of [443, 6443]) expect(allowed(policies, { from: galera, to: outside('the Kubernetes API'), port }), `API :${port}`).to.equal(true);
    expect(allowed(policies, { from: galera, to: peer, port: 4567 }), 'Galera replication').to.equal(true);
    expect(allowed(policies, { from: galera, to: outside('a DNS server'), port: 53, protocol: 'UDP' })).to.equal(true);
    expect(allowed(policies, { from: galera, to: outside('the internet'), port: 80 })).to.equal(false);
  });
});
