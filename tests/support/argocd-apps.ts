import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { helmTemplate, kedaRender, kongRender, kustomize, parseObjects, upstreamObjects as upstream, type K8sObject } from './tools.js';

// What argocd/ holds and what its Applications deploy (tests/static/gitops.test.ts, argocd-projects.test.ts).

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return entry === 'templates' ? [] : yamlFiles(path);
    return /\.ya?ml$/.test(entry) ? [path] : [];
  });
}

/** What a user applies by hand: the projects and the root Applications. */
export function argocdManifests(): K8sObject[] {
  return ['argocd/projects.yaml', ...yamlFiles('argocd/root')].flatMap((file) => parseObjects(readFileSync(file, 'utf8')));
}

export const sourcesOf = (app: K8sObject): any[] => app.spec.sources ?? [app.spec.source];

/** The objects an Application deploys, rendered as Argo CD renders them (hooks included, helm tests not). */
export function deployedBy(app: K8sObject, environment: string): K8sObject[] {
  const name = app.metadata.name.replace(`-${environment}`, '');
  const chartSource = sourcesOf(app).find((source) => source.chart);
  const pinned = (chart: string, version: string) => expect(chartSource?.chart === chart && chartSource?.targetRevision === version, `${name} pins ${chart} ${version}`).to.equal(true);
  switch (name) {
    case 'cluster':
      return kustomize('k8s');
    case 'database':
      return kustomize(`argocd/database/${environment}`);
    case 'records': {
      const source = sourcesOf(app).find((candidate) => candidate.path === 'charts/records');
      const sets = (source.helm.parameters ?? []).map((parameter: { name: string; value: string }) => `${parameter.name}=${parameter.value}`);
      return helmTemplate([`argocd/values/records/${environment}.yaml`], sets).filter((object) => object.metadata.annotations?.['helm.sh/hook'] !== 'test');
    }
    case 'keda':
      pinned('keda', '2.20.2');
      return kedaRender('2.20.2');
    case 'kong': {
      pinned('kong', '2.48.0');
      // The chart's render with this environment's values where the mirror has it; else what the
      // data allows: the extraObjects of the generated values through the chart's tpl pass. The
      // chart adds its cert-manager Certificate (certificates.proxy) and its ServiceMonitor
      // (serviceMonitor.enabled) only where the cluster serves cert-manager's and the Prometheus
      // Operator's APIs, which a plain render does not assume and Argo CD passes from the cluster:
      // added here as the cluster has them (the project's model of the chart's two conditions).
      const kong = kongRender(environment);
      if (!kong.complete) console.log(`      kong (${environment}): ${kong.note}`);
      const generated = parse(readFileSync(`kong/generated/${environment}/values.yaml`, 'utf8'));
      const certificate: K8sObject = { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: 'kong-kong-proxy-cert' }, spec: { dnsNames: generated.certificates.proxy.dnsNames } };
      const serviceMonitor: K8sObject = { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'kong-kong', labels: generated.serviceMonitor?.labels ?? {} } };
      const absent = (object: K8sObject, wanted: boolean) => (wanted && !kong.objects.some((rendered) => rendered.kind === object.kind) ? [object] : []);
      return [
        ...upstream('kong-2.48.0/crds.yaml'),
        ...kong.objects,
        ...absent(certificate, true),
        ...absent(serviceMonitor, generated.serviceMonitor?.enabled === true),
      ];
    }
    case 'mariadb-operator-crds':
      pinned('mariadb-operator-crds', '26.6.0');
      return upstream('mariadb-operator-26.6.0/crds.yaml');
    case 'mariadb-operator':
      pinned('mariadb-operator', '26.6.0');
      return upstream('mariadb-operator-26.6.0/rendered-defaults.yaml');
    case 'valkey':
      pinned('valkey', '0.11.0');
      return upstream('valkey-0.11.0/rendered-defaults.yaml');
    default:
      throw new Error(`no rendering known for Application ${app.metadata.name}`);
  }
}
