import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { kubectl, must } from './cluster.js';

/**
 * Pods that really run on the test node (scripts/node): a client or probe pod from the service
 * image (it has node, nothing else is needed), commands run in pods with `kubectl exec`, and TCP
 * connections tried from inside a pod.
 */

/** The service image as scripts/with-cluster built it: the chart's repository at its appVersion. */
const serviceImage = () => `ghcr.io/records/records:${parse(readFileSync('charts/records/Chart.yaml', 'utf8')).appVersion}`;

export type Workload = { name: string; namespace: string; labels: Record<string, string>; ports: Record<string, number> };

const listen = `
for (const port of (process.env.PORTS || '').split(',').filter(Boolean)) require('node:net').createServer((s) => s.end()).listen(Number(port));
setInterval(() => {}, 1 << 30);`;

/**
 * A pod of the service image standing for `workload`: its labels, its named ports listened on
 * (with none, it only waits: a client or a probe), restricted Pod Security, a writable /tmp.
 * Waits until it is Ready; returns its IP.
 */
export function standIn(workload: Workload, podName: string): string {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: podName, namespace: workload.namespace, labels: { ...workload.labels, 'records.test/stand-in': 'true' } },
    spec: {
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 0,
      securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{
        name: 'stand-in',
        image: serviceImage(),
        command: ['node', '-e', listen],
        env: [{ name: 'PORTS', value: Object.values(workload.ports).join(',') }],
        ports: Object.entries(workload.ports).map(([name, containerPort]) => ({ name, containerPort, protocol: 'TCP' })),
        resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } },
        securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
        volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
      }],
      volumes: [{ name: 'tmp', emptyDir: {} }],
    },
  };
  must(kubectl(['apply', '-f', '-'], JSON.stringify(pod)), `stand-in ${workload.name}`);
  must(kubectl(['wait', '-n', workload.namespace, '--for', 'condition=Ready', `pod/${podName}`, '--timeout', '120s']), `stand-in ${workload.name} Ready`);
  return must(kubectl(['get', 'pod', '-n', workload.namespace, podName, '-o', 'jsonpath={.status.podIP}']), 'pod IP').trim();
}

/** Runs `script` with node in a container of the pod (or of the first pod of `deploy/NAME`). */
export function nodeIn(namespace: string, target: string, script: string, args: string[] = []) {
  return kubectl(['exec', '-n', namespace, target, '--', 'node', '-e', script, '--', ...args]);
}

/**
 * Tries a TCP connection from inside a pod to a peer known to listen: 'open' when it connects,
 * 'denied' when it is refused or nothing answers within three seconds (kube-router rejects a flow
 * its policies deny with an ICMP port-unreachable, which the client sees as ECONNREFUSED).
 */
export const connect = `
const [host, port] = process.argv.slice(-2);
const socket = require('node:net').connect({ host, port: Number(port) });
socket.setTimeout(3000);
socket.on('connect', () => { console.log('open'); process.exit(0); });
socket.on('timeout', () => { console.log('denied'); process.exit(0); });
socket.on('error', (error) => { console.log(error.code === 'ECONNREFUSED' ? 'denied' : 'error ' + error.code); process.exit(0); });
`;

/** A name resolved through the cluster's DNS (CoreDNS behind kube-dns), three seconds at most: 'open' or 'denied'. */
export const resolve = `
const resolver = new (require('node:dns').promises.Resolver)({ timeout: 3000, tries: 1 });
resolver.setServers(['10.96.0.10']);
resolver.resolve4('kubernetes.default.svc.cluster.local').then(() => console.log('open'),
  (e) => console.log(['ETIMEOUT', 'ECONNREFUSED'].includes(e.code) ? 'denied' : 'error ' + e.code));`;

/** The outcome of a TCP connection from a pod with node (see `connect`) to host:port. */
export function tcpFrom(namespace: string, target: string, host: string, port: number): string {
  return must(nodeIn(namespace, target, connect, [host, String(port)]), `connecting from ${namespace}/${target}`).trim();
}

/** The same from a pod with bash but no node (MariaDB's): bash's /dev/tcp, three seconds. */
export function tcpFromBash(namespace: string, target: string, host: string, port: number): string {
  const result = kubectl(['exec', '-n', namespace, target, '--', 'timeout', '3', 'bash', '-c', `exec 3<>/dev/tcp/${host}/${port}`]);
  if (result.status === 0) return 'open';
  if (result.status === 124 || /refused/i.test(result.stderr)) return 'denied';
  return `error ${result.stderr.trim()}`;
}

/** A Service's cluster IP. */
export const clusterIp = (namespace: string, service: string) =>
  must(kubectl(['get', 'service', '-n', namespace, service, '-o', 'jsonpath={.spec.clusterIP}']), `Service ${namespace}/${service}`).trim();
