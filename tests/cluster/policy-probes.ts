import { kubectl, must, asKubectlInput } from './cluster.js';
import { connect, nodeIn, resolve, type Workload } from './pods.js';
import type { K8sObject } from '../support/tools.js';

/**
 * What the NetworkPolicies suite (network-policies.test.ts) measures with: the workloads pods
 * stand in for, the flows tried from inside them, the policies applied and removed per case.
 */

export const OUTSIDE = '203.0.113.1';
/** Where the outside address listens (TCP): an identity provider, the web, a resolver other than the cluster's. */
export const outsidePorts = [443, 80, 53];

/** The pod template of a rendered workload: its labels and named ports. */
export function workloadOf(objects: K8sObject[], kind: string, name: (n: string) => boolean, namespace = 'records'): Workload {
  const object = objects.find((candidate) => candidate.kind === kind && name(candidate.metadata.name));
  if (!object) throw new Error(`no ${kind} in the render`);
  const template = kind === 'Pod' ? object : object.spec.template;
  const ports = Object.fromEntries(template.spec.containers.flatMap((container: any) => (container.ports ?? []).map((port: any) => [port.name, port.containerPort])));
  return { name: `${kind}/${object.metadata.name}`, namespace, labels: template.metadata?.labels ?? {}, ports };
}

export const tcp = (namespace: string, from: string, host: string, port: number) => must(nodeIn(namespace, from, connect, [host, String(port)]), `${from} -> ${host}:${port}`).trim();
export const dns = (namespace: string, from: string) => must(nodeIn(namespace, from, resolve), `${from} -> DNS`).trim();
export const apiServer = () => must(kubectl(['get', 'service', 'kubernetes', '-n', 'default', '-o', 'jsonpath={.spec.clusterIP}']), 'API').trim();
/** The expected matrix: each flow `open` when listed in `open`, else `denied`. */
export const expectedOf = (observed: Record<string, string>, open: string[]) => Object.fromEntries(Object.keys(observed).map((flow) => [flow, open.includes(flow) ? 'open' : 'denied']));
export const clearStandIns = () => kubectl(['delete', 'pods', '--all-namespaces', '-l', 'records.test/stand-in=true', '--wait=true', '--timeout=60s']);

const apply = (objects: K8sObject[], namespace?: string) => {
  must(kubectl(['apply', ...(namespace ? ['-n', namespace] : []), '-f', '-'], asKubectlInput(objects)), 'applying');
};

/** Applies `policies` for one case, returns what removes them. */
export function policiesOf(objects: K8sObject[], namespace: string): () => void {
  const policies = objects.filter((object) => object.kind === 'NetworkPolicy').map((policy) => ({ ...policy, metadata: { name: policy.metadata.name, namespace: policy.metadata.namespace ?? namespace } }));
  apply(policies);
  return () => kubectl(['delete', '--ignore-not-found', '--wait=true', '-f', '-'], asKubectlInput(policies));
}

// A store in namespace data admits what its own policy admits (a user's, or the Valkey chart's):
// here one that admits the records namespace, so what is measured is the chart's egress.
export function dataAdmitsRecords(): () => void {
  const policy = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'admits-records', namespace: 'data' },
    spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'records' } } }] }] } } as K8sObject;
  apply([policy]);
  return () => kubectl(['delete', 'networkpolicy', '-n', 'data', 'admits-records', '--ignore-not-found']);
}
