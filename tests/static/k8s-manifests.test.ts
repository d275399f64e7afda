import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { ENVIRONMENTS } from '../../tooling/environments.js';
import { renderOverlay } from '../../tooling/k8s-manifests.js';
import { validateAll } from '../support/k8s-schema.js';
import { helmTemplate, kustomize, type K8sObject } from '../support/tools.js';

describe('cluster manifests: k8s/', function () {
  this.timeout(60_000);

  it('renders with kubectl kustomize and validates, strictly, against the Kubernetes schemas', async function () {
    const objects = kustomize('k8s');
    expect(await validateAll(objects)).to.deep.equal([]);
    const namespaces = objects.filter((object) => object.kind === 'Namespace');
    const records = namespaces.find((object) => object.metadata.name === 'records');
    expect(records?.metadata.labels).to.include({ 'pod-security.kubernetes.io/enforce': 'restricted' });
    for (const namespace of namespaces) {
      expect(namespace.metadata.labels, namespace.metadata.name).to.have.property('pod-security.kubernetes.io/enforce');
      // A sync that pruned or deleted a namespace would delete everything in it.
      expect(namespace.metadata.annotations?.['argocd.argoproj.io/sync-options'], namespace.metadata.name).to.equal('Prune=false,Delete=false');
    }
    expect(namespaces.map((namespace) => namespace.metadata.name).sort()).to.deep.equal(['data', 'keda', 'kong', 'mariadb-operator', 'records']);
    const denyAll = objects.filter((object) => object.kind === 'NetworkPolicy' && object.metadata.name === 'default-deny');
    expect(denyAll.map((policy) => policy.metadata.namespace).sort()).to.deep.equal(['data', 'records']);
    for (const policy of denyAll) expect(policy.spec).to.deep.equal({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    expect(objects.filter((object) => object.kind === 'ResourceQuota').length).to.be.greaterThan(0);
    expect(objects.filter((object) => object.kind === 'LimitRange').length).to.be.greaterThan(0);
  });

  it('sizes the records quota for production at maximum scale plus rollout surge, its Jobs and its database', function () {
    const quantity = (text: string | number) => {
      const match = /^([0-9.]+)(m|Ki|Mi|Gi)?$/.exec(String(text));
      const factor = { m: 0.001, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }[match?.[2] ?? ''] ?? 1;
      return Number(match?.[1]) * factor;
    };
    const objects = helmTemplate(['argocd/values/records/production.yaml']);
    const scaled = objects.find((object) => object.kind === 'ScaledObject') as K8sObject;
    const deployment = objects.find((object) => object.kind === 'Deployment') as K8sObject;
    const surge = Math.ceil(scaled.spec.maxReplicaCount * (Number.parseInt(deployment.spec.strategy.rollingUpdate.maxSurge, 10) / 100));
    const need = { pods: 0, 'requests.cpu': 0, 'requests.memory': 0, 'limits.cpu': 0, 'limits.memory': 0 } as Record<string, number>;
    const add = (count: number, resources: any) => {
      need.pods! += count;
      for (const kind of ['requests', 'limits']) for (const resource of ['cpu', 'memory']) need[`${kind}.${resource}`]! += count * quantity(resources[kind][resource]);
    };
    add(scaled.spec.maxReplicaCount + surge, deployment.spec.template.spec.containers[0].resources);
    for (const job of objects.filter((object) => object.kind === 'Job')) add(1, job.spec.template.spec.containers[0].resources);
    const galera = kustomize('argocd/database/production').find((object) => object.kind === 'MariaDB') as K8sObject;
    add(galera.spec.replicas, galera.spec.resources);
    // Galera's init Job, and a recovery Job per node (after a whole-cluster crash).
    add(1, galera.spec.galera.initJob.resources);
    add(galera.spec.replicas, galera.spec.galera.recovery.job.resources);
    const quota = kustomize('k8s').find((object) => object.kind === 'ResourceQuota' && object.metadata.namespace === 'records') as K8sObject;
    for (const [key, value] of Object.entries(need)) expect(quantity(quota.spec.hard[key]), key).to.be.at.least(value);
  });

  for (const environment of ENVIRONMENTS) {
    it(`installs the service with kubectl apply -k k8s/overlays/${environment}, generated from the chart without drift`, async function () {
      expect(readFileSync(`k8s/overlays/${environment}/records.yaml`, 'utf8'), 'run make k8s-manifests').to.equal(renderOverlay(environment));
      const objects = kustomize(`k8s/overlays/${environment}`);
      // The MariaDB (argocd/database) has no schema here: the cluster suite dry-runs it on the API server.
      expect(await validateAll(objects.filter((object) => object.kind !== 'MariaDB'))).to.deep.equal([]);
      expect(objects.some((object) => object.kind === 'Deployment' && object.metadata.namespace === 'records')).to.equal(true);
      expect(objects.some((object) => object.metadata.annotations?.['helm.sh/hook'] === 'test')).to.equal(false);
      // No Helm release owns them: labelled as kubectl's, in the objects and their pod templates.
      const labelled = (object: K8sObject) => [object.metadata.labels ?? {}, object.spec?.template?.metadata?.labels ?? {}] as Array<Record<string, string>>;
      const records = objects.filter((object) => object.metadata.labels?.['app.kubernetes.io/part-of'] === 'records');
      expect(records.length, 'objects of the chart').to.be.greaterThan(10);
      for (const labels of records.flatMap(labelled)) {
        expect(labels['app.kubernetes.io/managed-by'] ?? 'kubectl').to.equal('kubectl');
        expect(labels).to.not.have.property('helm.sh/chart');
      }
      expect(records.map((object) => object.metadata.labels?.['app.kubernetes.io/managed-by'])).to.include('kubectl');
    });
  }
});
