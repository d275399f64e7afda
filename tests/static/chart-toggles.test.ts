import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { find } from '../support/chart-objects.js';
import { helmTemplate, type K8sObject } from '../support/tools.js';

describe('Helm chart charts/records', function () {
  this.timeout(60_000);

  describe('toggles', function () {
    it('creates a KEDA ScaledObject by default, with the proven query, a CPU trigger and a fallback', function () {
      const objects = helmTemplate();
      const [scaled] = find(objects, 'ScaledObject');
      expect(find(objects, 'HorizontalPodAutoscaler')).to.deep.equal([]);
      const query = readFileSync('charts/records/files/request-rate.promql', 'utf8')
        .trim()
        .replaceAll('__SELECTOR__', 'namespace="records",service="records"')
        .replaceAll('__WINDOW__', '2m');
      expect(scaled?.spec.triggers).to.deep.equal([
        {
          type: 'prometheus',
          name: 'requests-per-pod',
          metricType: 'Value',
          metadata: { serverAddress: 'http://prometheus-server.monitoring.svc.cluster.local:80', query, threshold: '100' },
        },
        { type: 'cpu', metricType: 'Utilization', metadata: { value: '70' } },
      ]);
      // A fallback never scales below what the CPU trigger asked for, and by default holds the
      // minimum: a cluster without Prometheus must not run above it.
      expect(scaled?.spec.fallback).to.deep.equal({ failureThreshold: 3, replicas: scaled?.spec.minReplicaCount, behavior: 'currentReplicasIfHigher' });
      expect(scaled?.spec.minReplicaCount).to.equal(2);
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

    it('renders for a cluster without KEDA: a CPU HPA with KEDA\'s bounds stands in', function () {
      const objects = helmTemplate([], [], 'records', 'records', []);
      expect(find(objects, 'ScaledObject')).to.deep.equal([]);
      const [hpa] = find(objects, 'HorizontalPodAutoscaler');
      const values = parse(readFileSync('charts/records/values.yaml', 'utf8')).autoscaling.keda;
      expect(hpa?.spec).to.deep.include({ minReplicas: values.minReplicas, maxReplicas: values.maxReplicas });
      expect(hpa?.spec.metrics[0].resource.target.averageUtilization).to.equal(values.cpu.utilization);
      expect(find(objects, 'Deployment')[0]?.spec.replicas, 'the HPA owns the count').to.equal(undefined);
    });

    it('fails a render without KEDA when the values require it (GitOps), and never stands an HPA in for it', function () {
      expect(() => helmTemplate([], ['autoscaling.keda.required=true'], 'records', 'records', [])).to.throw(/autoscaling.keda.required: the cluster serves no keda.sh\/v1alpha1 ScaledObject API/);
      for (const environment of ['staging', 'production']) {
        expect(() => helmTemplate([`argocd/values/records/${environment}.yaml`], [], 'records', 'records', []), environment).to.throw(/autoscaling.keda.required/);
      }
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

    it('runs migrations as a pre-install/pre-upgrade hook against an external database, with its own egress policy', function () {
      const objects = helmTemplate(['charts/records/ci/keda-off-values.yaml']);
      const [job] = find(objects, 'Job').filter((candidate) => candidate.metadata.name === 'records-migrate');
      expect(job?.metadata.annotations).to.include({ 'helm.sh/hook': 'pre-install,pre-upgrade', 'helm.sh/hook-delete-policy': 'before-hook-creation' });
      expect(job?.spec.template.spec.containers[0].args).to.deep.equal(['migrate', '--wait', '300']);
      // The hook's Secret holds the database password: deleted once the hook succeeded.
      const secret = find(objects, 'Secret').find((candidate) => candidate.metadata.name === 'records-migrate-hook');
      expect(secret?.metadata.annotations?.['helm.sh/hook-delete-policy']).to.equal('before-hook-creation,hook-succeeded');
      // Under a namespace default-deny, the hook needs a policy that exists before it runs: a hook too.
      const policy = find(objects, 'NetworkPolicy').find((candidate) => candidate.metadata.name === 'records-migrate-hook');
      expect(policy?.metadata.annotations?.['helm.sh/hook']).to.equal('pre-install,pre-upgrade');
      expect(Number(policy?.metadata.annotations?.['helm.sh/hook-weight'])).to.be.below(Number(job?.metadata.annotations?.['helm.sh/hook-weight']));
    });

    it('leaves no hook object behind that an install with the bundled MariaDB would own (Helm keeps hooks past uninstall)', function () {
      const hooks = helmTemplate(['charts/records/ci/keda-off-values.yaml']).filter((object) => object.metadata.annotations?.['helm.sh/hook']?.includes('pre-install'));
      expect(hooks.map((object) => object.kind)).to.include.members(['ServiceAccount', 'NetworkPolicy', 'Job']);
      // The hook's ServiceAccount and policy were named as the bundled mode's: once the external
      // database was tried and uninstalled, installing with defaults failed on "invalid ownership metadata".
      const bundled = new Set(helmTemplate().filter((object) => !object.metadata.annotations?.['helm.sh/hook']).map((object) => `${object.kind}/${object.metadata.name}`));
      expect(hooks.map((object) => `${object.kind}/${object.metadata.name}`).filter((name) => bundled.has(name))).to.deep.equal([]);
      for (const object of hooks.filter((candidate) => candidate.kind !== 'Job')) {
        expect(object.metadata.annotations?.['helm.sh/hook-delete-policy'], `${object.kind}/${object.metadata.name}`).to.equal('before-hook-creation,hook-succeeded');
      }
    });

    it('turns tracing on only with a collector endpoint: the OpenTelemetry variables, and egress to the collector', function () {
      const configOf = (objects: K8sObject[]) => find(objects, 'ConfigMap').find((candidate) => candidate.metadata.name === 'records')?.data ?? {};
      const egressPorts = (objects: K8sObject[]) =>
        (find(objects, 'NetworkPolicy').find((candidate) => candidate.metadata.name === 'records')?.spec.egress ?? []).flatMap((rule: { ports?: Array<{ port: number }> }) => (rule.ports ?? []).map((p) => p.port));
      const off = helmTemplate();
      expect(Object.keys(configOf(off)).filter((name) => name.startsWith('OTEL_'))).to.deep.equal([]);
      expect(egressPorts(off)).not.to.include(4318);
      const on = helmTemplate([], ['config.tracing.endpoint=http://collector.observability.svc:4318', 'config.tracing.samplingRatio=0.25']);
      expect(configOf(on)).to.include({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector.observability.svc:4318',
        OTEL_SERVICE_NAME: 'records',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
      });
      expect(egressPorts(on)).to.include(4318);
      expect(() => helmTemplate([], ['config.tracing.endpoint=collector:4318'])).to.throw(/does not match pattern/);
    });

    it('keeps the helm test token out of values and plain env: minted in the pod, or mounted from tests.tokenSecret', function () {
      const pod = (objects: K8sObject[]) => find(objects, 'Pod')[0] as K8sObject;
      const selfTrusting = pod(helmTemplate());
      expect(selfTrusting.spec.containers[0].env.map((variable: { name: string }) => variable.name)).not.to.include('TEST_TOKEN');
      expect(selfTrusting.spec.volumes.map((volume: any) => volume.secret.secretName)).to.deep.equal(['records-generated']);
      const external = pod(helmTemplate(['charts/records/ci/keda-off-values.yaml'], ['tests.tokenSecret.name=smoke-token']));
      expect(external.spec.volumes).to.deep.equal([{ name: 'test-token', secret: { secretName: 'smoke-token', defaultMode: 0o400, items: [{ key: 'token', path: 'token' }] } }]);
      expect(() => helmTemplate([], ['tests.token=abc'])).to.throw(/additional properties 'token' not allowed/);
    });

    it('gives every pod that runs the service\'s image its imagePullSecrets, the helm test pod too (it had none, so helm test failed on a private registry)', function () {
      const objects = helmTemplate([], ['imagePullSecrets={regcred}']);
      const pods = objects.flatMap((object) => {
        const spec = object.kind === 'Pod' ? object.spec : object.spec?.template?.spec;
        return spec ? [{ name: `${object.kind}/${object.metadata.name}`, spec }] : [];
      });
      const image = find(objects, 'Deployment')[0]?.spec.template.spec.containers[0].image;
      const running = pods.filter(({ spec }) => spec.containers.some((container: { image: string }) => container.image === image));
      expect(running.map(({ name }) => name)).to.include('Pod/records-test');
      for (const { name, spec } of running) expect(spec.imagePullSecrets, name).to.deep.equal([{ name: 'regcred' }]);
    });

    it('starts with an existingSecret that holds no signing key (the key volume is optional)', function () {
      const deployment = find(helmTemplate(['charts/records/ci/production-values.yaml']), 'Deployment')[0] as K8sObject;
      const volume = deployment.spec.template.spec.volumes.find((candidate: { name: string }) => candidate.name === 'signing-key');
      expect(volume.secret).to.include({ secretName: 'records-production', optional: true });
    });

    it('rolls the pods when the configuration changes', function () {
      const checksum = (sets: string[]) => find(helmTemplate([], sets), 'Deployment')[0]?.spec.template.metadata.annotations['checksum/config'];
      expect(checksum(['config.logLevel=debug'])).not.to.equal(checksum([]));
    });

    it('documents every value with an @param comment, and the README table is current', function () {
      // @bitnami/readme-generator-for-helm refuses a value without @param and an @param without a
      // value; run on a copy of the README, it must leave it as committed.
      const dir = mkdtempSync(join(tmpdir(), 'chart-readme-'));
      try {
        copyFileSync('charts/records/README.md', join(dir, 'README.md'));
        const result = spawnSync('node_modules/.bin/readme-generator', ['-v', 'charts/records/values.yaml', '-r', join(dir, 'README.md')], { encoding: 'utf8' });
        expect(result.status, result.stdout + result.stderr).to.equal(0);
        expect(readFileSync(join(dir, 'README.md'), 'utf8'), 'make chart-readme').to.equal(readFileSync('charts/records/README.md', 'utf8'));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('describes every value in values.schema.json, which rejects unknown keys at every level', function () {
      // Leaves of values.yaml: scalars, lists, and empty maps (maps with content are described by their leaves).
      const leaves = (values: unknown, prefix = ''): string[] =>
        values === null || typeof values !== 'object' || Array.isArray(values) || Object.keys(values).length === 0
          ? [prefix]
          : Object.entries(values).flatMap(([key, value]) => leaves(value, prefix ? `${prefix}.${key}` : key));
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
