import { expect } from 'chai';
import { missingPrerequisites } from '../../tooling/deploy-check.js';
import { ARGOCD_WHITELIST_NAME } from '../../tooling/prerequisites.js';
import { kubectl, must } from './cluster.js';

/**
 * What the first sync needs (make deploy-check CLUSTER=1), provided as a user provides it, one
 * prerequisite after the other on the test cluster: the check passes once all are there (Valkey's
 * Secret without the kong user's password is still missing, and said so). Removes them again.
 */
export function expectPassesOnceProvided(): void {
  const made: string[][] = [];
  const make = (args: string[], undo: string[], input?: string) => {
    must(kubectl(args, input), args.join(' '));
    made.push(undo);
  };
  try {
    // The node's metrics-server (scripts/node applies it, as a cloud cluster has it; not waited for there).
    must(kubectl(['wait', '--for', 'condition=Available', 'apiservice/v1beta1.metrics.k8s.io', '--timeout', '180s']), 'the metrics.k8s.io API');
    make(['create', 'secret', 'generic', '-n', 'kong', 'kong-ratelimit-redis', '--from-literal=password=k'], ['delete', 'secret', '-n', 'kong', 'kong-ratelimit-redis']);
    make(['create', 'secret', 'generic', '-n', 'data', 'valkey-users', '--from-literal=default=d', '--from-literal=records=r'], ['delete', 'secret', '-n', 'data', 'valkey-users']);
    make(['create', 'secret', 'generic', '-n', 'records', 'valkey-users', '--from-literal=records=r'], ['delete', 'secret', '-n', 'records', 'valkey-users']);
    const health = { 'resource.customizations.health.argoproj.io_Application': 'hs = {}\nhs.status = "Progressing"\nreturn hs\n' };
    make(['apply', '-f', '-'], ['delete', 'configmap', '-n', 'argocd', 'argocd-cm'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'argocd-cm', namespace: 'argocd' }, data: health }));
    make(['apply', '-f', '-'], ['delete', 'clusterissuer', 'letsencrypt-staging'], JSON.stringify({ apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', metadata: { name: 'letsencrypt-staging' }, spec: { selfSigned: {} } }));
    // Valkey's Secret lacks the kong user's password: still missing, and said so.
    expect(missingPrerequisites('staging', 'kubectl').join('; ')).to.contain('data/valkey-users');
    must(kubectl(['patch', 'secret', '-n', 'data', 'valkey-users', '-p', JSON.stringify({ stringData: { kong: 'k' } })]), 'adding the kong user');
    expect(missingPrerequisites('staging', 'kubectl')).to.deep.equal([]);
  } finally {
    for (const undo of made.reverse()) kubectl([...undo, '--ignore-not-found']);
  }
}

/**
 * The Argo CD version check reads the AppProject CRD the cluster serves: the test cluster's is
 * Argo CD 3.6.1's (it passes); the same CRD without clusterResourceWhitelist[].name, as Argo CD 3.2
 * declares it, is named missing. The CRD is put back as it was, also after a failure.
 */
export function expectArgoCdFeatureChecked(): void {
  const argocd = (missing: string[]) => missing.filter((line) => line.includes('Argo CD 3.3 or newer'));
  expect(argocd(missingPrerequisites('staging', 'kubectl')), "Argo CD 3.6.1's CRD").to.deep.equal([]);
  const crd = JSON.parse(must(kubectl(['get', 'crd', 'appprojects.argoproj.io', '-o', 'json']), 'the AppProject CRD'));
  const index = crd.spec.versions.findIndex((version: { name: string }) => version.name === 'v1alpha1');
  const path = `/spec/versions/${index}/schema/openAPIV3Schema/properties/spec/properties/clusterResourceWhitelist/items/properties/name`;
  const declared = crd.spec.versions[index].schema.openAPIV3Schema.properties.spec.properties.clusterResourceWhitelist.items.properties.name;
  expect(declared, ARGOCD_WHITELIST_NAME).to.deep.include({ type: 'string' });
  must(kubectl(['patch', 'crd', 'appprojects.argoproj.io', '--type=json', '-p', JSON.stringify([{ op: 'remove', path }])]), "declaring the CRD as Argo CD 3.2's");
  let restored: ReturnType<typeof kubectl> | null = null;
  try {
    expect(argocd(missingPrerequisites('staging', 'kubectl')), "Argo CD 3.2's CRD").to.have.length(1);
  } finally {
    // Put back whatever happened; a failure above stays the one reported.
    restored = kubectl(['patch', 'crd', 'appprojects.argoproj.io', '--type=json', '-p', JSON.stringify([{ op: 'add', path, value: declared }])]);
  }
  expect(restored.status, `putting the CRD back: ${restored.stderr}`).to.equal(0);
  expect(argocd(missingPrerequisites('staging', 'kubectl'))).to.deep.equal([]);
}
