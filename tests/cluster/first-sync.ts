import { expect } from 'chai';
import { missingPrerequisites } from '../../tooling/deploy-check.js';
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
