import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parse } from 'yaml';
import { leaves, readParams, renderTable } from '../scripts/chart-readme.js';
import { chartPolicyViolations } from './support/chart-policy.js';
import { validateAll } from './support/k8s-schema.js';
import { helmTemplate, run, type K8sObject } from './support/tools.js';

const CI_VALUES = readdirSync('charts/records/ci').map((file) => `charts/records/ci/${file}`);
const VARIANTS: Array<{ name: string; files: string[]; external: string[] }> = [
  { name: 'the default values', files: [], external: [] },
  ...CI_VALUES.map((file) => ({ name: file, files: [file], external: file.includes('production') ? ['records-production'] : [] })),
];
const find = (objects: K8sObject[], kind: string) => objects.filter((object) => object.kind === kind);

describe('Helm chart charts/records', function () {
  this.timeout(60_000);

  for (const variant of VARIANTS) {
    describe(`rendered with ${variant.name}`, function () {
      let objects: K8sObject[];
      before(() => {
        objects = helmTemplate(variant.files);
      });

      it('passes helm lint --strict', function () {
        const result = run('helm', ['lint', '--strict', 'charts/records', ...variant.files.flatMap((file) => ['-f', file])]);
        expect(result.status, result.stdout + result.stderr).to.equal(0);
      });

      it('validates against the Kubernetes, KEDA and Prometheus Operator schemas, with no unknown fields', async function () {
        expect(objects.length).to.be.greaterThan(5);
        expect(await validateAll(objects)).to.deep.equal([]);
      });

      it('passes the policy checks', function () {
        expect(chartPolicyViolations(objects, variant.external)).to.deep.equal([]);
      });

      it('labels every object with the app.kubernetes.io set', function () {
        for (const object of objects) {
          expect(object.metadata.labels, `${object.kind}/${object.metadata.name}`).to.include.keys(
            'app.kubernetes.io/name',
            'app.kubernetes.io/instance',
            'app.kubernetes.io/managed-by',
            'helm.sh/chart',
          );
        }
      });
    });
  }

  it('has policy checks that catch what they look for', function () {
    const objects = helmTemplate(['charts/records/ci/keda-off-values.yaml']);
    const deployment = find(objects, 'Deployment')[0] as K8sObject;
    const container = deployment.spec.template.spec.containers[0];
    deployment.spec.replicas = 2;
    delete container.resources.limits;
    container.securityContext.readOnlyRootFilesystem = false;
    container.readinessProbe = container.livenessProbe;
    container.image = 'ghcr.io/records/records:latest';
    deployment.spec.template.spec.terminationGracePeriodSeconds = 10;
    const service = find(objects, 'Service')[0] as K8sObject;
    service.spec.selector = { app: 'other' };
    const mutated = objects.filter((o) => o.kind !== 'PodDisruptionBudget');
    const found = chartPolicyViolations(mutated).join('\n');
    for (const expected of [
      'replicas set while an autoscaler owns it',
      'resources.limits.cpu missing',
      'readOnlyRootFilesystem must be true',
      'liveness and readiness probes are identical',
      'image tag latest',
      'terminationGracePeriodSeconds 10 must exceed drain + shutdown timeout (25)',
      'no PodDisruptionBudget selects the pods',
      'Service/records: selector matches no pods',
    ]) {
      expect(found).to.contain(expected);
    }
  });

  describe('toggles', function () {
    it('creates a KEDA ScaledObject by default, with the proven query, a CPU trigger and a fallback', function () {
      const objects = helmTemplate();
      const [scaled] = find(objects, 'ScaledObject');
      expect(find(objects, 'HorizontalPodAutoscaler')).to.deep.equal([]);
      const query = readFileSync('charts/records/files/request-rate.promql', 'utf8').trim().replaceAll('__SELECTOR__', 'namespace="records",service="records"');
      expect(scaled?.spec.triggers).to.deep.equal([
        {
          type: 'prometheus',
          name: 'requests-per-pod',
          metricType: 'Value',
          metadata: { serverAddress: 'http://prometheus-server.monitoring.svc.cluster.local:80', query, threshold: '100' },
        },
        { type: 'cpu', metricType: 'Utilization', metadata: { value: '70' } },
      ]);
      expect(scaled?.spec.fallback).to.deep.equal({ failureThreshold: 3, replicas: 4 });
      expect(scaled?.spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.stabilizationWindowSeconds).to.equal(300);
      expect(find(objects, 'Deployment')[0]?.spec).not.to.have.property('replicas');
    });

    it('creates a plain autoscaling/v2 HPA when KEDA is off', function () {
      const objects = helmTemplate(['charts/records/ci/keda-off-values.yaml']);
      expect(find(objects, 'ScaledObject')).to.deep.equal([]);
      expect(find(objects, 'HorizontalPodAutoscaler').map((o) => o.apiVersion)).to.deep.equal(['autoscaling/v2']);
      expect(find(objects, 'Deployment')[0]?.spec).not.to.have.property('replicas');
    });

    it('sets replicas on the Deployment only when no autoscaler owns it', function () {
      const objects = helmTemplate([], ['autoscaling.keda.enabled=false', 'replicaCount=3']);
      expect(find(objects, 'Deployment')[0]?.spec.replicas).to.equal(3);
    });

    it('refuses KEDA and the HPA together', function () {
      expect(() => helmTemplate([], ['autoscaling.hpa.enabled=true'])).to.throw(/autoscaling.*'not' failed/);
    });

    it('creates no Secret with existingSecret, and points the pods and the hook at it', function () {
      const objects = helmTemplate(['charts/records/ci/production-values.yaml']);
      expect(find(objects, 'Secret')).to.deep.equal([]);
      for (const workload of [...find(objects, 'Deployment'), ...find(objects, 'Job')]) {
        const env = workload.spec.template.spec.containers[0].env;
        const database = env.find((variable: { name: string }) => variable.name === 'DATABASE_URL');
        expect(database.valueFrom.secretKeyRef.name, workload.kind).to.equal('records-production');
      }
    });

    it('fails on a typo in values, on unknown keys, and on the latest tag', function () {
      expect(() => helmTemplate([], ['replicaCont=3'])).to.throw(/additional properties 'replicaCont' not allowed/);
      expect(() => helmTemplate([], ['autoscaling.keda.minReplica=3'])).to.throw(/additional properties 'minReplica' not allowed/);
      expect(() => helmTemplate([], ['image.tag=latest'])).to.throw(/image\/tag/);
      expect(() => helmTemplate([], ['config.logLevel=loud'])).to.throw(/logLevel/);
    });

    it('uses the digest over the tag when both are set', function () {
      const digest = `sha256:${'a'.repeat(64)}`;
      const objects = helmTemplate([], [`image.digest=${digest}`, 'image.tag=1.2.3']);
      expect(find(objects, 'Deployment')[0]?.spec.template.spec.containers[0].image).to.equal(`ghcr.io/records/records@${digest}`);
    });

    it('runs migrations as an idempotent pre-install/pre-upgrade hook only when a database is configured', function () {
      expect(find(helmTemplate(), 'Job')).to.deep.equal([]);
      const [job] = find(helmTemplate(['charts/records/ci/keda-off-values.yaml']), 'Job');
      expect(job?.metadata.annotations).to.include({ 'helm.sh/hook': 'pre-install,pre-upgrade', 'helm.sh/hook-delete-policy': 'before-hook-creation' });
      expect(job?.spec.template.spec.containers[0].args).to.deep.equal(['migrate']);
    });

    it('rolls the pods when the configuration changes', function () {
      const checksum = (sets: string[]) => find(helmTemplate([], sets), 'Deployment')[0]?.spec.template.metadata.annotations['checksum/config'];
      expect(checksum(['config.logLevel=debug'])).not.to.equal(checksum([]));
    });

    it('documents every value with an @param comment, and the README table is current', function () {
      const valuesText = readFileSync('charts/records/values.yaml', 'utf8');
      const documented = new Set(readParams(valuesText).map((param) => param.name));
      expect(leaves(parse(valuesText)).filter((leaf) => !documented.has(leaf))).to.deep.equal([]);
      expect(readFileSync('charts/records/README.md', 'utf8')).to.contain(renderTable(valuesText));
    });

    it('describes every value in values.schema.json, which rejects unknown keys at every level', function () {
      const schema = JSON.parse(readFileSync('charts/records/values.schema.json', 'utf8'));
      const missing = leaves(parse(readFileSync('charts/records/values.yaml', 'utf8'))).filter((leaf) => {
        let node = schema;
        for (const key of leaf.split('.')) {
          if (node.additionalProperties !== false) return true;
          node = node.properties?.[key];
          if (!node) return true;
        }
        return false;
      });
      expect(missing).to.deep.equal([]);
    });
  });
});
