import type { K8sObject } from './tools.js';

/** Kinds the API server keeps outside namespaces (those our apps and the upstream charts render). */
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleBinding',
  'APIService',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  'PriorityClass',
  'StorageClass',
]);

const isClusterScoped = (object: K8sObject) => CLUSTER_SCOPED.has(object.kind);
export const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? (apiVersion.split('/')[0] as string) : '');

/** A whitelist entry; `name` (cluster-scoped kinds, Argo CD 3.x) narrows it to matching names. */
type GroupKind = { group: string; kind: string; name?: string };
const glob = (pattern: string, value: string) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*')}$`).test(value);
const listed = (list: GroupKind[] | undefined, object: K8sObject) =>
  (list ?? []).some((entry) => glob(entry.group, groupOf(object.apiVersion)) && glob(entry.kind, object.kind) && (entry.name === undefined || glob(entry.name, object.metadata.name)));

/**
 * The project's model of what Argo CD refuses when it syncs `objects` for `app` in `project`: the Application's own
 * destination and sources, then each object's namespace (its own, or the destination's) against
 * the destinations, cluster-scoped kinds against clusterResourceWhitelist, namespaced kinds
 * against namespaceResourceWhitelist (when the project has one) and the blacklist.
 */
export function projectViolations(project: K8sObject, app: K8sObject, objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const spec = project.spec;
  const destination = app.spec.destination;
  const permitted = (namespace: string) =>
    (spec.destinations ?? []).some((allowed: { server?: string; namespace?: string }) => glob(allowed.server ?? '*', destination.server) && glob(allowed.namespace ?? '', namespace));
  if (!destination.namespace) problems.push(`${app.metadata.name}: destination has no namespace`);
  else if (!permitted(destination.namespace)) problems.push(`${app.metadata.name}: destination {${destination.server} ${destination.namespace}} is not permitted in project ${project.metadata.name}`);
  for (const source of app.spec.sources ?? [app.spec.source]) {
    if (!(spec.sourceRepos ?? []).some((repo: string) => glob(repo, source.repoURL))) problems.push(`${app.metadata.name}: source ${source.repoURL} is not permitted in project ${project.metadata.name}`);
  }
  for (const object of objects) {
    const where = `${app.metadata.name}: ${object.kind}/${object.metadata.name}`;
    if (isClusterScoped(object)) {
      if (!listed(spec.clusterResourceWhitelist, object)) problems.push(`${where}: cluster-scoped ${groupOf(object.apiVersion) || 'core'}/${object.kind} is not in the clusterResourceWhitelist`);
      continue;
    }
    const namespace = object.metadata.namespace ?? destination.namespace;
    if (!permitted(namespace)) problems.push(`${where}: namespace ${namespace} is not a destination of project ${project.metadata.name}`);
    if (spec.namespaceResourceWhitelist && !listed(spec.namespaceResourceWhitelist, object)) {
      problems.push(`${where}: ${groupOf(object.apiVersion) || 'core'}/${object.kind} is not in the namespaceResourceWhitelist`);
    }
    if (listed(spec.namespaceResourceBlacklist, object)) problems.push(`${where}: ${object.kind} is blacklisted`);
  }
  return problems;
}

/** Project rules that no rendered object needs: a project must permit nothing more than its apps deploy. */
export function unusedRules(project: K8sObject, deployed: Array<{ app: K8sObject; objects: K8sObject[] }>): string[] {
  const unused: string[] = [];
  const all = deployed.flatMap(({ app, objects }) => objects.map((object) => ({ app, object })));
  for (const entry of project.spec.clusterResourceWhitelist ?? []) {
    if (!all.some(({ object }) => isClusterScoped(object) && listed([entry], object))) unused.push(`clusterResourceWhitelist ${entry.group}/${entry.kind}${entry.name ? ` ${entry.name}` : ''}`);
  }
  for (const entry of project.spec.namespaceResourceWhitelist ?? []) {
    if (!all.some(({ object }) => !isClusterScoped(object) && listed([entry], object))) unused.push(`namespaceResourceWhitelist ${entry.group}/${entry.kind}`);
  }
  for (const allowed of project.spec.destinations ?? []) {
    const used = all.some(({ app, object }) => !isClusterScoped(object) && glob(allowed.namespace, object.metadata.namespace ?? app.spec.destination.namespace));
    if (!used) unused.push(`destination namespace ${allowed.namespace}`);
  }
  return unused;
}
