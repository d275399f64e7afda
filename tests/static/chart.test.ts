import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { chartPolicyViolations } from '../support/chart-policy.js';
import { validateAll } from '../support/k8s-schema.js';
import { helmTemplate, run, type K8sObject } from '../support/tools.js';

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

      it('opens egress only to named destinations: every rule but DNS and the API server says where it may go', function () {
        const only = (rule: { ports?: Array<{ port: number | string }> }, ports: number[]) => (rule.ports ?? []).length > 0 && (rule.ports ?? []).every((port) => ports.includes(Number(port.port)));
        for (const policy of objects.filter((object) => object.kind === 'NetworkPolicy')) {
          for (const rule of (policy.spec.egress ?? []) as Array<{ to?: unknown[]; ports?: Array<{ port: number | string }> }>) {
            // The API server's address differs per cluster: apiServerPeers pins it where it is known.
            if (only(rule, [53]) || (policy.metadata.name === 'records-init-secret' && only(rule, [443, 6443]))) continue;
            expect((rule.to ?? []).length, `${policy.metadata.name}: egress on ${JSON.stringify(rule.ports)} to any address`).to.be.above(0);
          }
        }
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

  describe('with no values at all', function () {
    let objects: K8sObject[];
    before(() => {
      objects = helmTemplate();
    });
    const named = (kind: string, name: string) => objects.find((object) => object.kind === kind && object.metadata.name === name) as K8sObject;
    const env = (container: any) => Object.fromEntries((container.env ?? []).map((variable: any) => [variable.name, variable.value ?? variable.valueFrom]));

    it('gives every replica one database, the bundled MariaDB on a persistent volume', function () {
      const deployment = named('Deployment', 'records');
      const variables = env(deployment.spec.template.spec.containers[0]);
      expect(variables.DATABASE_URL).to.equal('mysql://records@records-mariadb:3306/records');
      expect(variables.DATABASE_PASSWORD).to.deep.equal({ secretKeyRef: { name: 'records-generated', key: 'mariadb-password' } });
      expect(named('ConfigMap', 'records').data).not.to.have.property('DATABASE_URL');
      const database = named('StatefulSet', 'records-mariadb');
      expect(database.spec.replicas).to.equal(1);
      expect(database.spec.template.spec.containers[0].image).to.match(/^docker\.io\/library\/mariadb:\d+\.\d+\.\d+$/);
      expect(database.spec.volumeClaimTemplates.map((claim: any) => claim.spec.accessModes)).to.deep.equal([['ReadWriteOnce']]);
      expect(database.spec.persistentVolumeClaimRetentionPolicy).to.deep.equal({ whenDeleted: 'Retain', whenScaled: 'Retain' });
      expect(named('Service', 'records-mariadb').spec.selector).to.deep.equal(database.spec.selector.matchLabels);
      expect(named('NetworkPolicy', 'records-mariadb').spec.podSelector.matchLabels).to.deep.equal(database.spec.selector.matchLabels);
    });

    it('keeps nothing that holds records in a pod: no SQLite path, no per-pod volume but /tmp', function () {
      for (const workload of [...find(objects, 'Deployment'), ...find(objects, 'Job')]) {
        const container = workload.spec.template.spec.containers[0];
        const url = env(container).DATABASE_URL;
        if (url !== undefined && typeof url === 'string') expect(url, workload.metadata.name).to.match(/^mysql:\/\//);
        const writable = (workload.spec.template.spec.volumes ?? []).filter((volume: any) => volume.emptyDir || volume.persistentVolumeClaim);
        expect(writable.map((volume: any) => volume.name), workload.metadata.name).to.deep.equal(['tmp']);
      }
    });

    it('runs migrations on first install before any pod serves: after MariaDB, before the Deployment', function () {
      const [job] = find(objects, 'Job').filter((candidate) => candidate.spec.template.spec.containers[0].args[0] === 'migrate');
      // A pre-install hook would run before the release's MariaDB exists; this Job is a release
      // object, new for each image (its name), ordered by readiness (helm --wait) and sync waves.
      expect(job?.metadata.annotations).not.to.have.property('helm.sh/hook');
      expect(job?.metadata.name).to.match(/^records-migrate-[0-9a-f]{8}$/);
      expect(job?.spec.template.spec.containers[0].args).to.deep.equal(['migrate', '--wait', '300']);
      const wave = (object: K8sObject | undefined) => Number(object?.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? 0);
      expect(wave(named('StatefulSet', 'records-mariadb'))).to.be.below(wave(job));
      expect(wave(job)).to.be.below(wave(named('Deployment', 'records')));
      expect(named('Deployment', 'records').spec.template.spec.containers[0].readinessProbe.httpGet.path).to.equal('/readyz');
      // A Job's pod template is immutable: anything that changes it (a new image, a config value the
      // Job reads) must give a new Job, or `helm upgrade` fails (the cluster test caught this).
      const jobName = (sets: string[]) => find(helmTemplate([], sets), 'Job').find((candidate) => candidate.metadata.name.startsWith('records-migrate-'))?.metadata.name;
      expect(jobName(['image.tag=0.2.0']), 'a new image runs a new Job').not.to.equal(job?.metadata.name);
      expect(jobName(['config.logLevel=debug']), 'a changed LOG_LEVEL runs a new Job').not.to.equal(job?.metadata.name);
      expect(jobName(['config.cacheTtlSeconds=30']), 'a value the Job does not read keeps the Job').to.equal(job?.metadata.name);
    });

    it('generates the passwords and the signing key once, in the cluster, before anything else', function () {
      const job = named('Job', 'records-init-secret');
      expect(job.metadata.annotations).to.include({ 'helm.sh/hook': 'pre-install,pre-upgrade', 'helm.sh/hook-weight': '-20' });
      expect(job.spec.template.spec.containers[0].args).to.deep.equal(['init-secret', '--name', 'records-generated', '--keys', 'mariadb-password,mariadb-root-password,signing-key.pem']);
      const role = named('Role', 'records-init-secret');
      expect(role.rules).to.deep.equal([
        { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
        { apiGroups: [''], resources: ['secrets'], resourceNames: ['records-generated'], verbs: ['get', 'patch'] },
      ]);
      for (const object of objects.filter((candidate) => candidate.metadata.name === 'records-init-secret')) {
        expect(object.metadata.annotations?.['helm.sh/hook-delete-policy'], object.kind).to.equal('before-hook-creation,hook-succeeded');
      }
    });

    it('requires tokens and trusts its own issuer, so the pods start and a minted token works', function () {
      const config = named('ConfigMap', 'records').data;
      expect(config).to.include({ AUTH_MODE: 'required', SERVICE_NAME: 'records', SERVICE_ISSUER: 'http://records.records.svc.cluster.local:8000' });
      expect(JSON.parse(named('ConfigMap', 'records-files').data['issuers.json'])).to.deep.equal([]);
      const pod = named('Deployment', 'records').spec.template.spec;
      expect(env(pod.containers[0]).SERVICE_KEY_FILE).to.equal('/var/run/secrets/records/signing-key.pem');
      const key = pod.volumes.find((volume: any) => volume.name === 'signing-key');
      expect(key.secret).to.include({ secretName: 'records-generated', optional: false });
      const notes = run('helm', ['install', 'records', 'charts/records', '--dry-run=client', '-n', 'records']).stdout;
      expect(notes).to.contain('node service/dist/main.js token --aud records --scope "records:read records:write"');
      expect(notes).to.contain('curl -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:8000/v1/?limit=10"');
    });

    it('refuses to render without any database rather than give each pod its own', function () {
      expect(() => helmTemplate([], ['mariadb.enabled=false'])).to.throw(/no database: set database.url, existingSecret, or mariadb.enabled=true/);
    });
  });

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
      const secret = find(objects, 'Secret').find((candidate) => candidate.metadata.name === 'records-migrate');
      expect(secret?.metadata.annotations?.['helm.sh/hook-delete-policy']).to.equal('before-hook-creation,hook-succeeded');
      // Under a namespace default-deny, the hook needs a policy that exists before it runs: a hook too.
      const policy = find(objects, 'NetworkPolicy').find((candidate) => candidate.metadata.name === 'records-migrate');
      expect(policy?.metadata.annotations?.['helm.sh/hook']).to.equal('pre-install,pre-upgrade');
      expect(Number(policy?.metadata.annotations?.['helm.sh/hook-weight'])).to.be.below(Number(job?.metadata.annotations?.['helm.sh/hook-weight']));
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
