import { expect } from 'chai';
import { kubectl } from '../cluster/cluster.js';
import type { K8sObject } from '../support/tools.js';
import { applications, asYaml, eventually, type Repository } from './argocd.js';
import { byName } from './checks.js';
import { apply, IN_CLUSTER } from './deploy.js';

/** Applications a user might try that the projects (argocd/projects.yaml) do not permit, and Argo CD's refusals. */

/** An Application a user might try: `path` of this repository, auto-synced, into `namespace` here. */
const attempt = (records: Repository, name: string, project: string, path: string, namespace: string): K8sObject => ({
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Application',
  metadata: { name, namespace: 'argocd' },
  spec: { project, source: { repoURL: records.url, targetRevision: 'main', path }, destination: { server: IN_CLUSTER, namespace }, syncPolicy: { automated: {} } },
});

/**
 * Waits until Argo CD has refused both: `atOnce` by a condition (before anything renders), `atSync`
 * by a failed sync naming what is not permitted. Returns both messages.
 */
function bothRefused(atOnce: string, atSync: string): Promise<{ condition: string; sync: string }> {
  return eventually('both refused', 180, () => {
    const apps = applications();
    const condition = (byName(apps, atOnce)?.status?.conditions ?? []).map((entry) => entry.message).join('\n');
    const sync = byName(apps, atSync)?.status?.operationState?.message ?? '';
    return condition && /not permitted/.test(sync) ? { condition, sync } : false;
  });
}

/** A destination outside the project and kinds outside it, each refused with Argo CD's message. */
export async function expectRefusedOutsideProject(records: Repository): Promise<void> {
  // A destination outside the project: refused before anything is rendered.
  // Kinds outside the project (k8s/ holds Namespaces and cluster-wide policy): the sync fails.
  apply([attempt(records, 'escape-destination', 'records-apps', 'argocd/database/staging', 'kube-system'), attempt(records, 'escape-kinds', 'records-apps', 'k8s', 'records')], 'applying the Applications');
  try {
    const { condition: destination, sync: kinds } = await bothRefused('escape-destination', 'escape-kinds');
    expect(destination).to.contain("application destination server 'https://kubernetes.default.svc' and namespace 'kube-system' do not match any of the allowed destinations in project 'records-apps'");
    expect(kinds).to.contain(':Namespace is not permitted in project records-apps');
    expect(kubectl(['get', 'mariadb', 'records-db', '-n', 'kube-system']).status, 'nothing deployed into kube-system').to.not.equal(0);
  } finally {
    kubectl(['delete', 'application', 'escape-destination', 'escape-kinds', '-n', 'argocd', '--wait=true']);
  }
}

/** An Application naming the locked default project, and a ClusterRoleBinding no upstream chart names, both refused. */
export async function expectRefusedDefaultAndBinding(records: Repository): Promise<void> {
  // A binding of cluster-admin under a name no upstream chart uses, in a path of this repository.
  records.write('escape/binding.yaml', asYaml([{
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'escape-admin' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: 'kong' }],
  }]));
  records.commit('an escape attempt');
  apply([attempt(records, 'escape-default', 'default', 'argocd/database/staging', 'records'), attempt(records, 'escape-binding', 'records-platform', 'escape', 'kong')], 'applying the Applications');
  try {
    const { condition: viaDefault, sync: binding } = await bothRefused('escape-default', 'escape-binding');
    expect(viaDefault).to.match(/in project '?default'?/);
    expect(binding).to.match(/ClusterRoleBinding.*not permitted in project records-platform/);
    expect(kubectl(['get', 'clusterrolebinding', 'escape-admin']).status, 'no binding made').to.not.equal(0);
  } finally {
    kubectl(['delete', 'application', 'escape-default', 'escape-binding', '-n', 'argocd', '--wait=true']);
  }
}
