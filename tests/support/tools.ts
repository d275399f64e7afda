import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parseDocument } from 'yaml';

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
  [field: string]: any;
};

let binDir: string | null = null;
/** helm and kubectl from scripts/install-k8s-tools (pinned, unpacked on first use). */
export function toolPath(tool: 'helm' | 'kubectl'): string {
  binDir ??= execFileSync('scripts/install-k8s-tools', { encoding: 'utf8' }).trim();
  return `${binDir}/${tool}`;
}

export function run(tool: 'helm' | 'kubectl', args: string[]): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(toolPath(tool), args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

export function parseObjects(yamlText: string): K8sObject[] {
  return parseAllDocuments(yamlText)
    .map((document) => {
      if (document.errors.length > 0) throw new Error(document.errors.map(String).join('\n'));
      return document.toJS() as K8sObject | null;
    })
    .filter((object): object is K8sObject => object !== null);
}

/** `helm template` of charts/records; throws with helm's message when rendering fails. */
export function helmTemplate(valuesFiles: string[] = [], sets: string[] = [], release = 'records', namespace = 'records'): K8sObject[] {
  const args = ['template', release, 'charts/records', '--namespace', namespace, ...valuesFiles.flatMap((file) => ['-f', file])];
  for (const set of sets) args.push('--set', set);
  const result = run('helm', args);
  if (result.status !== 0) throw new Error(result.stderr.trim());
  return parseObjects(result.stdout);
}

/**
 * What the pinned upstream charts render (../shared/upstream/README.md): kept beside the checkout,
 * read in place, never copied into it.
 */
export const UPSTREAM = '../shared/upstream';

/** What an upstream chart renders at its pinned version (a file of ../shared/upstream). */
export const upstreamObjects = (file: string): K8sObject[] => parseObjects(readFileSync(join(UPSTREAM, file), 'utf8'));

/**
 * The Kong chart cannot be rendered here: its b3e13de render, with the security settings where
 * kong/values.yaml now puts them (the chart feeds securityContext to the pod and
 * containerSecurityContext to each container).
 */
export function kongAsPlacedNow(): K8sObject[] {
  const values = parseDocument(readFileSync('kong/values.yaml', 'utf8')).toJS();
  return upstreamObjects('kong-2.48.0/rendered-with-kong-values-b3e13de.yaml').map((object) => {
    if (object.kind !== 'Deployment') return object;
    const pod = object.spec.template.spec;
    pod.securityContext = values.securityContext;
    for (const container of [...(pod.initContainers ?? []), ...pod.containers]) container.securityContext = values.containerSecurityContext;
    return object;
  });
}

function rendered(tool: 'helm' | 'kubectl', args: string[]): K8sObject[] {
  const result = run(tool, args);
  if (result.status !== 0) throw new Error(result.stderr);
  return parseObjects(result.stdout);
}

/** `kubectl kustomize DIR`. */
export const kustomize = (dir: string): K8sObject[] => rendered('kubectl', ['kustomize', dir]);

/** The Applications of one environment, as Argo CD renders argocd/apps. */
export const renderApps = (environment: string): K8sObject[] => rendered('helm', ['template', 'apps', 'argocd/apps', '-f', `argocd/apps/values-${environment}.yaml`]);
