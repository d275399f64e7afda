import type { K8sObject } from './tools.js';

/**
 * NetworkPolicy semantics (networking.k8s.io/v1), evaluated over a set of policies: traffic from a
 * pod is allowed out when no policy of its namespace selects it for Egress, or one of those
 * policies' egress rules matches; in, likewise for Ingress. Both directions must allow a flow.
 */

export type Endpoint = { name: string; namespace?: string; labels?: Record<string, string>; ports?: Record<string, number> };
export type Flow = { from: Endpoint; to: Endpoint; port: number; protocol?: 'TCP' | 'UDP' };

const matchesSelector = (selector: any, labels: Record<string, string> = {}) => {
  if (!selector) return false;
  const exact = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  const expressions = (selector.matchExpressions ?? []).every((expression: { key: string; operator: string; values?: string[] }) => {
    const value = labels[expression.key];
    switch (expression.operator) {
      case 'In':
        return value !== undefined && (expression.values ?? []).includes(value);
      case 'NotIn':
        return value === undefined || !(expression.values ?? []).includes(value);
      case 'Exists':
        return value !== undefined;
      default:
        return value === undefined;
    }
  });
  return exact && expressions;
};

const namespaceLabels = (namespace: string) => ({ 'kubernetes.io/metadata.name': namespace });

/** Does `peer` (a from/to entry of a rule in `policyNamespace`) match `endpoint`? */
function peerMatches(peer: any, policyNamespace: string, endpoint: Endpoint): boolean {
  if (peer.ipBlock) return endpoint.namespace === undefined; // outside the cluster's pods
  if (endpoint.namespace === undefined) return false;
  const namespaceOk = peer.namespaceSelector ? matchesSelector(peer.namespaceSelector, namespaceLabels(endpoint.namespace)) : endpoint.namespace === policyNamespace;
  const podOk = peer.podSelector ? matchesSelector(peer.podSelector, endpoint.labels) : true;
  return namespaceOk && podOk;
}

function portMatches(rulePorts: any[] | undefined, flow: Flow): boolean {
  if (!rulePorts || rulePorts.length === 0) return true;
  return rulePorts.some((entry) => {
    if ((entry.protocol ?? 'TCP') !== (flow.protocol ?? 'TCP')) return false;
    if (entry.port === undefined) return true;
    const port = typeof entry.port === 'string' ? flow.to.ports?.[entry.port] : entry.port;
    return port === flow.port || (entry.endPort !== undefined && flow.port >= entry.port && flow.port <= entry.endPort);
  });
}

function direction(policies: K8sObject[], endpoint: Endpoint, type: 'Ingress' | 'Egress', peer: Endpoint, flow: Flow): boolean {
  if (endpoint.namespace === undefined) return true; // not a pod: no policy applies
  const selecting = policies.filter(
    (policy) =>
      (policy.metadata.namespace ?? 'records') === endpoint.namespace &&
      matchesSelector(policy.spec.podSelector, endpoint.labels) &&
      (policy.spec.policyTypes ?? ['Ingress']).includes(type),
  );
  if (selecting.length === 0) return true;
  const key = type === 'Ingress' ? 'ingress' : 'egress';
  const peersKey = type === 'Ingress' ? 'from' : 'to';
  return selecting.some((policy) =>
    (policy.spec[key] ?? []).some((rule: any) => {
      const peers = rule[peersKey];
      const peerOk = !peers || peers.length === 0 || peers.some((candidate: any) => peerMatches(candidate, policy.metadata.namespace ?? 'records', peer));
      return peerOk && portMatches(rule.ports, flow);
    }),
  );
}

export function allowed(policies: K8sObject[], flow: Flow): boolean {
  // An empty podSelector ({}) selects every pod of its namespace.
  const normalized = policies.map((policy) => ({ ...policy, spec: { ...policy.spec, podSelector: policy.spec.podSelector ?? {} } }));
  return direction(normalized, flow.from, 'Egress', flow.to, flow) && direction(normalized, flow.to, 'Ingress', flow.from, flow);
}

/** The pods a rendered chart runs (Deployments, StatefulSets, Jobs, Pods), with their container ports. */
export function podsOf(objects: K8sObject[], namespace: string): Endpoint[] {
  return objects.flatMap((object) => {
    const template = object.kind === 'Pod' ? object : ['Deployment', 'StatefulSet', 'Job'].includes(object.kind) ? object.spec.template : null;
    if (!template) return [];
    const ports = Object.fromEntries(
      template.spec.containers.flatMap((container: any) => (container.ports ?? []).map((port: any) => [port.name, port.containerPort])),
    );
    return [{ name: `${object.kind}/${object.metadata.name}`, namespace: object.metadata.namespace ?? namespace, labels: template.metadata?.labels ?? {}, ports }];
  });
}
