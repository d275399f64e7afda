import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse, stringify } from 'yaml';
import { ENVIRONMENTS } from '../../tooling/environments.js';
import { generatedPath, readEnvironment } from '../../tooling/kong-config.js';
import { unknownFieldsOf, validateAll } from '../support/k8s-schema.js';
import { valuesOf } from '../support/kong-generated.js';
import { KONG_MODEL_VERSION } from '../support/kong-model/index.js';
import { kongRender, throughTpl, type K8sObject } from '../support/tools.js';
import { chartPin, mirrorFile } from '../../tooling/upstream-mirror.js';

describe('Kong chart values', function () {
  const chartValuesText = readFileSync(mirrorFile(chartPin('kong'), 'values.yaml'), 'utf8');
  const chartValues = parse(chartValuesText);
  // Options the chart documents as comments (`# maxUnavailable: "50%"`), or reads without listing
  // them (proxy.externalTrafficPolicy: its render with this project's values carries the field).
  const rendered = stringify(kongRender('staging').objects);
  const documented = (key: string) => new RegExp(`^\\s*#\\s*${key}:`, 'm').test(chartValuesText) || new RegExp(`^\\s*${key}: `, 'm').test(rendered);
  const files = ['kong/values.yaml', ...ENVIRONMENTS.map((environment) => generatedPath(environment, 'values.yaml')), 'k8s/kind/kong-values.yaml'];
  const values = parse(readFileSync('kong/values.yaml', 'utf8'));
  // Maps the chart passes through whole (Kong settings, labels, annotations, raw objects).
  // Kubernetes objects (securityContext, resources, ...) are checked field by field against the API below.
  const FREE_FORM = new Set(['env', 'customEnv', 'podAnnotations', 'podLabels', 'deploymentAnnotations', 'extraLabels', 'dblessConfig.config', 'serviceMonitor.labels', 'securityContext', 'containerSecurityContext', 'resources', 'tolerations', 'affinity', 'nodeSelector']);

  /** Keys we set that the chart's values.yaml does not have. */
  function unknownKeys(ours: any, theirs: any, path: string): string[] {
    if (FREE_FORM.has(path) || ours === null || typeof ours !== 'object' || Array.isArray(ours)) return [];
    if (theirs === null || theirs === undefined) return [`${path}: not a value of the chart`];
    if (typeof theirs !== 'object' || Array.isArray(theirs)) return [`${path}: a map where the chart has a ${Array.isArray(theirs) ? 'list' : typeof theirs}`];
    const commented = (key: string) => ['sidecarContainers', 'userDefinedVolumes', 'userDefinedVolumeMounts', 'initContainers', 'hostAliases'].includes(key) && path === 'deployment';
    return Object.entries(ours).flatMap(([key, value]) => {
      const child = path ? `${path}.${key}` : key;
      if (!(key in theirs) && !commented(key) && !documented(key)) return [`${child}: not a value of the chart`];
      return unknownKeys(value, theirs[key], child);
    });
  }

  /** Each Kubernetes field where the chart puts it: pod-level vs container-level, checked against the API's field lists. */
  async function misplacedFields(file: string, valuesOfFile: any): Promise<string[]> {
    const placements: Array<[string, unknown, string]> = [
      ['securityContext', valuesOfFile.securityContext, 'V1PodSecurityContext'],
      ['containerSecurityContext', valuesOfFile.containerSecurityContext, 'V1SecurityContext'],
      ['resources', valuesOfFile.resources, 'V1ResourceRequirements'],
      ['deployment.sidecarContainers', valuesOfFile.deployment?.sidecarContainers, 'Array<V1Container>'],
      ['deployment.userDefinedVolumes', valuesOfFile.deployment?.userDefinedVolumes, 'Array<V1Volume>'],
      ['tolerations', valuesOfFile.tolerations, 'Array<V1Toleration>'],
    ];
    const found = await Promise.all(placements.filter(([, value]) => value !== undefined).map(([path, value, type]) => unknownFieldsOf(value, type, `${file}: ${path}`)));
    return found.flat();
  }

  it('sets only values the pinned chart (kong 2.48.0) has, in every values file', function () {
    for (const file of files) expect(unknownKeys(parse(readFileSync(file, 'utf8')), chartValues, ''), file).to.deep.equal([]);
  });

  it('puts each Kubernetes field in the object the chart feeds it to', async function () {
    for (const file of files) expect(await misplacedFields(file, parse(readFileSync(file, 'utf8'))), file).to.deep.equal([]);
  });

  it('catches container settings under the pod-level securityContext (the b3e13de values)', async function () {
    const old = { securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] } } };
    expect(await misplacedFields('old', old)).to.deep.equal([
      'old: securityContext.readOnlyRootFilesystem: unknown field',
      'old: securityContext.allowPrivilegeEscalation: unknown field',
      'old: securityContext.capabilities: unknown field',
    ]);
    expect(unknownKeys({ proxy: { tls: { nodeport: 1 } } }, chartValues, '')).to.deep.equal(['proxy.tls.nodeport: not a value of the chart']);
  });

  it('survives the chart\'s tpl pass over extraObjects in every environment, alerts keeping their $labels', function () {
    for (const environment of ENVIRONMENTS) {
      const files = chartPin('kong').renders[environment]!;
      const written = parse(readFileSync(generatedPath(environment, 'values.yaml'), 'utf8')).extraObjects as K8sObject[];
      let emitted: K8sObject[] = [];
      expect(() => (emitted = throughTpl(files)), environment).not.to.throw();
      expect(emitted.map((object) => `${object.kind}/${object.metadata.name}`), environment).to.deep.equal(written.map((object) => `${object.kind}/${object.metadata.name}`));
      const annotations = emitted.filter((object) => object.kind === 'PrometheusRule')
        .flatMap((rule) => rule.spec.groups.flatMap((group: { rules: Array<{ annotations?: Record<string, string> }> }) => group.rules.flatMap((alert) => Object.values(alert.annotations ?? {}))));
      for (const text of annotations) expect(text, `${environment}: an alert's text after tpl`).not.to.match(/\{\{\s*"/);
      if (environment === 'production') expect(annotations.join('\n'), 'the JWKS alert names its consumer').to.contain('{{ $labels.consumer }}');
    }
  });

  it('passes extraObjects through tpl as the chart does: a bare {{ $labels }} fails the render', function () {
    const dir = mkdtempSync(join(tmpdir(), 'kong-tpl-'));
    try {
      const file = join(dir, 'values.yaml');
      writeFileSync(file, stringify({ extraObjects: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { text: '{{ $labels.consumer }}' } }] }));
      expect(() => throughTpl([file])).to.throw(/undefined variable "\$labels"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it(`runs Kong OSS ${KONG_MODEL_VERSION} (the version the schema model follows) DB-less, without the ingress controller or an Admin API Service`, function () {
    expect(values.image.repository).to.equal('kong');
    expect(String(values.image.tag)).to.equal(KONG_MODEL_VERSION);
    expect(values.env.database).to.equal('off');
    expect(values.dblessConfig.configMap, 'the config comes from kong/generated/<env>/values.yaml').to.equal('');
    expect(values.ingressController.enabled).to.equal(false);
    expect(values.admin.enabled).to.equal(false);
    expect(values.containerSecurityContext).to.include({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, runAsNonRoot: true });
  });

  it('documents real-IP handling, exposes status for metrics, and is resilient', function () {
    // trusted_ips is per environment: 'the client address Kong rate-limits by' below.
    expect(values.env.real_ip_header).to.equal('X-Forwarded-For');
    expect(values.status.enabled).to.equal(true);
    expect(values.proxy.type).to.equal('LoadBalancer');
    expect(values.podDisruptionBudget.enabled).to.equal(true);
    expect(values.autoscaling.minReplicas).to.be.at.least(2);
  });

  for (const environment of ENVIRONMENTS) {
    it(`gives ${environment} a cert-manager certificate for its hosts, the jwks-sync sidecar and its monitoring objects`, async function () {
      const settings = readEnvironment(environment);
      const generated = valuesOf(environment);
      expect(generated.certificates).to.deep.include({ enabled: true, clusterIssuer: settings.tls.clusterIssuer });
      expect(generated.certificates.proxy).to.deep.include({ enabled: true, commonName: settings.hosts[0], dnsNames: settings.hosts });
      for (const unused of ['admin', 'portal', 'cluster']) expect(generated.certificates[unused].enabled, unused).to.equal(false);
      const [sidecar] = generated.deployment.sidecarContainers;
      const env = Object.fromEntries(sidecar.env.map((variable: any) => [variable.name, variable.value ?? variable.valueFrom]));
      expect(sidecar.image).to.equal(settings.syncImage);
      expect(sidecar.args).to.deep.equal(['kong-sync']);
      expect(JSON.parse(env.KONG_SYNC_ISSUERS)).to.deep.equal(settings.issuers.map(({ consumer, jwksUri }) => ({ consumer, jwksUri })));
      expect(env.KONG_SYNC_ADMIN_URL ?? 'https://127.0.0.1:8444', 'the Admin API stays on loopback').to.match(/^https:\/\/127\.0\.0\.1:/);
      expect(env.KONG_SYNC_REDIS_URL).to.equal(`${settings.rateLimitRedis.ssl ? 'rediss' : 'redis'}://${settings.rateLimitRedis.username}@${settings.rateLimitRedis.host}:${settings.rateLimitRedis.port}`);
      const kinds = (generated.extraObjects as K8sObject[]).map((object) => object.kind).sort();
      expect(kinds).to.deep.equal(settings.prometheusOperator ? ['PodMonitor', 'PrometheusRule'] : ['Service']);
      expect(await validateAll(generated.extraObjects)).to.deep.equal([]);
      expect(generated.serviceMonitor.enabled).to.equal(settings.prometheusOperator);
    });
  }

  it('has alerts that fire when they must and stay silent when they must not (promtool test rules)', function () {
    const ok = spawnSync('promtool', ['test', 'rules', 'kong/alerts.test.yaml'], { encoding: 'utf8' });
    expect(ok.status, ok.stdout + ok.stderr).to.equal(0);
    // The same tests against a rule with its threshold moved must fail: they can fail.
    const dir = mkdtempSync(join(tmpdir(), 'kong-alerts-'));
    try {
      writeFileSync(join(dir, 'alerts.yaml'), readFileSync('kong/alerts.yaml', 'utf8').replace('> 0.2', '> 0.5'));
      writeFileSync(join(dir, 'alerts.test.yaml'), readFileSync('kong/alerts.test.yaml', 'utf8'));
      const moved = spawnSync('promtool', ['test', 'rules', join(dir, 'alerts.test.yaml')], { encoding: 'utf8' });
      expect(moved.status).not.to.equal(0);
      expect(moved.stdout + moved.stderr).to.contain('KongUnauthorizedSpike');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the client address Kong rate-limits by', function () {
  const PRIVATE_RANGES = ['0.0.0.0/0', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'];

  it('trusts X-Forwarded-For only from each environment\'s load balancer ranges, never a private range wholesale', function () {
    expect(parse(readFileSync('kong/values.yaml', 'utf8')).env.trusted_ips, 'kong/values.yaml: no shared default').to.equal(undefined);
    for (const environment of ENVIRONMENTS) {
      const trusted = String(valuesOf(environment).env?.trusted_ips ?? '').split(',').filter(Boolean);
      expect(trusted, environment).to.deep.equal(readEnvironment(environment).trustedIps);
      expect(trusted.filter((range) => PRIVATE_RANGES.includes(range)), environment).to.deep.equal([]);
    }
  });
});
