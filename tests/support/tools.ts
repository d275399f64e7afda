import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { chartFolder, chartPin, mirrorDir, renderWithTodaysValues } from '../../tooling/upstream-mirror.js';

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

/** KEDA's API, as a cluster with KEDA serves it (helm template assumes only the built-in APIs). */
const KEDA_API = 'keda.sh/v1alpha1/ScaledObject';

/**
 * `helm template` of charts/records, for a cluster serving `apiVersions` besides the built-in ones
 * (by default KEDA's, which the project's installs have); throws with helm's message on failure.
 */
export function helmTemplate(valuesFiles: string[] = [], sets: string[] = [], release = 'records', namespace = 'records', apiVersions: string[] = [KEDA_API]): K8sObject[] {
  const args = ['template', release, 'charts/records', '--namespace', namespace, ...valuesFiles.flatMap((file) => ['-f', file])];
  for (const api of apiVersions) args.push('--api-versions', api);
  for (const set of sets) args.push('--set', set);
  const result = run('helm', args);
  if (result.status !== 0) throw new Error(result.stderr.trim());
  return parseObjects(result.stdout);
}

/** Objects of a file in the upstream mirror (tooling/upstream-mirror.ts), e.g. `keda-2.20.2/crds.yaml`. */
export const upstreamObjects = (file: string): K8sObject[] => parseObjects(readFileSync(join(mirrorDir(), file), 'utf8'));

/**
 * KEDA's chart as the keda Application renders it: its CRDs and its default render from the mirror,
 * with argocd/values/keda/values.yaml's `extraArgs.webhooks` added to the admission webhook's
 * arguments as `--key=value`. That addition is the project's model of the chart's template (read in
 * kedacore/charts' templates/webhooks/deployment.yaml at the pinned version): the mirror holds only
 * default renders. The Argo CD suite runs the result, so KEDA's own webhook accepts the flags.
 */
export function kedaRender(version: string): K8sObject[] {
  const extra: Record<string, string> = parse(readFileSync('argocd/values/keda/values.yaml', 'utf8')).extraArgs?.webhooks ?? {};
  const objects = [...upstreamObjects(`keda-${version}/crds.yaml`), ...upstreamObjects(`keda-${version}/rendered-defaults.yaml`)];
  const webhooks = objects.find((object) => object.kind === 'Deployment' && object.metadata.name === 'keda-admission-webhooks');
  if (!webhooks) throw new Error(`keda-${version}: no keda-admission-webhooks Deployment in the mirror's render`);
  webhooks.spec.template.spec.containers[0].args.push(...Object.entries(extra).map(([key, value]) => `--${key}=${value}`));
  return objects;
}

/** A pinned chart's default render from the mirror. */
export const upstreamDefaults = (key: string): K8sObject[] => upstreamObjects(`${chartFolder(chartPin(key))}/rendered-defaults.yaml`);

/**
 * A values file's extraObjects as the Kong chart emits them: each passed through Helm's `tpl`
 * (tests/support/tpl-pass, the project's one-template chart doing what the chart's
 * templates/extraManifests.yaml does). Throws with Helm's message when `tpl` fails.
 */
export function throughTpl(valuesFiles: string[]): K8sObject[] {
  const result = run('helm', ['template', 'kong', 'tests/support/tpl-pass', '--namespace', 'kong', ...valuesFiles.flatMap((file) => ['-f', file])]);
  if (result.status !== 0) throw new Error(result.stderr.trim());
  return parseObjects(result.stdout);
}

/**
 * Kong as the chart renders it with an environment's values today: the mirror's render whose
 * digest matches them. Where the mirror has none (the values changed since it was written), the
 * best the data allows, said in `note`: the mirror's earlier render for that environment with its
 * objects of today's extraObjects replaced by today's (through the chart's `tpl` pass), or only
 * today's extraObjects where it has no earlier render. Objects of other values changed since are
 * as the earlier render had them.
 */
export function kongRender(environment: string): { objects: K8sObject[]; note: string; complete: boolean } {
  const lookup = renderWithTodaysValues('kong', environment);
  if (lookup.found) return { objects: parseObjects(readFileSync(lookup.file, 'utf8')), note: `the chart's render with today's values (${lookup.file})`, complete: true };
  const extra = throughTpl(chartPin('kong').renders[environment]!);
  if (lookup.earlier === null) return { objects: extra, note: `only the project's extraObjects: ${lookup.why}`, complete: false };
  const id = (object: K8sObject) => `${object.kind}/${object.metadata.name}`;
  const replaced = new Set(extra.map(id));
  const earlier = parseObjects(readFileSync(lookup.earlier, 'utf8')).filter((object) => !replaced.has(id(object)));
  return { objects: [...earlier, ...extra], note: `${lookup.earlier} with today's extraObjects: ${lookup.why}`, complete: false };
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
