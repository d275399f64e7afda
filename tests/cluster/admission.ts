import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { helmTemplate, type K8sObject } from '../support/tools.js';
import { asKubectlInput, kubectl, must, serviceAccountsReady } from './cluster.js';

/** What the cluster suite's admission tests submit: pods for Pod Security and the LimitRange, the init-secret hook's RBAC. */

/** A pod of the service image that meets the restricted profile, its container's memory limit `memory`. */
export const restrictedPod = (memory: string) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'too-big', namespace: 'records' },
  spec: {
    securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [{ name: 'c', image: 'ghcr.io/records/records:0.1.0', resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '1', memory } },
      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
  },
}) as K8sObject;

/**
 * The init-secret hook's view of the API server in a new `namespace`: the chart's own Role,
 * RoleBinding and ServiceAccount applied there, and a token of that ServiceAccount.
 */
export function initSecretApi(namespace: string): { url: string; token: string; ca: Buffer } {
  kubectl(['create', 'namespace', namespace]);
  serviceAccountsReady();
  const rbac = helmTemplate([], [], 'records', namespace).filter((object) => object.metadata.name === 'records-init-secret' && object.kind !== 'Job' && object.kind !== 'NetworkPolicy');
  expect(rbac.map((object) => object.kind).sort()).to.deep.equal(['Role', 'RoleBinding', 'ServiceAccount']);
  must(kubectl(['apply', '--server-side', '--field-manager', 'records-test', '-n', namespace, '-f', '-'], asKubectlInput(rbac)), 'RBAC');
  const token = must(kubectl(['create', 'token', 'records-init-secret', '-n', namespace, '--duration', '10m']), 'token').trim();
  const server = must(kubectl(['config', 'view', '--raw', '-o', 'jsonpath={.clusters[0].cluster.server}']), 'server');
  const ca = readFileSync(must(kubectl(['config', 'view', '--raw', '-o', 'jsonpath={.clusters[0].cluster.certificate-authority}']), 'ca'));
  return { url: server, token, ca };
}
