import { readdirSync, readFileSync } from 'node:fs';
import { ENVIRONMENTS } from '../../tooling/environments.js';
import { chartPin } from '../../tooling/upstream-mirror.js';
import { helmTemplate, kongRender, kustomize, parseObjects, renderApps, throughTpl, upstreamDefaults, type K8sObject } from '../support/tools.js';

/** Kong's render with an environment's values; where the mirror has none, says so and checks what it can. */
function kongOf(environment: string): K8sObject[] {
  const kong = kongRender(environment);
  if (!kong.complete) console.log(`      kong (${environment}): ${kong.note}`);
  return kong.objects;
}

/**
 * Every set of objects the project ships, for the cluster suite's server-side dry runs: its name,
 * its objects (rendered when the test runs) and the namespace they are applied in, if any.
 */
export function shippedObjectSets(): Array<[string, () => K8sObject[], string | undefined]> {
  return [
    ['the chart with its defaults', () => helmTemplate(), 'records'],
    ...readdirSync('charts/records/ci').map((file): [string, () => K8sObject[], string] => [`the chart with ci/${file}`, () => helmTemplate([`charts/records/ci/${file}`]), 'records']),
    ['k8s/', () => kustomize('k8s'), undefined],
    ['k8s/overlays/staging', () => kustomize('k8s/overlays/staging'), undefined],
    ['k8s/overlays/production', () => kustomize('k8s/overlays/production'), undefined],
    ['argocd/projects.yaml and the roots', () => [...parseObjects(readFileSync('argocd/projects.yaml', 'utf8')), ...ENVIRONMENTS.flatMap((env) => parseObjects(readFileSync(`argocd/root/${env}.yaml`, 'utf8')))], 'argocd'],
    ['the staging Applications', () => renderApps('staging'), 'argocd'],
    ['the production Applications', () => renderApps('production'), 'argocd'],
    ['the staging database', () => kustomize('argocd/database/staging'), undefined],
    ['the production database', () => kustomize('argocd/database/production'), undefined],
    ['KEDA as it renders', () => upstreamDefaults('keda'), 'keda'],
    ...ENVIRONMENTS.map((environment): [string, () => K8sObject[], string] => [`Kong with ${environment}'s values: the mirror's render of them, or where it has none its earlier render with today's extraObjects, or with neither today's extraObjects alone (printed)`, () => kongOf(environment), 'kong']),
    ['mariadb-operator as it renders', () => upstreamDefaults('mariadbOperator'), 'mariadb-operator'],
    ['Valkey as it renders', () => upstreamDefaults('valkey'), 'data'],
    ['the Kong objects of kong/generated/production, through the chart\'s tpl pass', () => throughTpl(chartPin('kong').renders.production!), 'kong'],
    ['the Kong objects of kong/generated/staging, through the chart\'s tpl pass', () => throughTpl(chartPin('kong').renders.staging!), 'kong'],
  ];
}
