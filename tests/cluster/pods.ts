import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { kubectl, must, spawnKubectl } from './cluster.js';

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

export type LoopCounts = { ok: number; failed: string[] };
type Request = 'get' | 'search' | 'bulk';

/** Loops the `requests` (by id, a search, a one-record bulk write) until /tmp/stop exists, then prints the counts. */
const loop = `
const [base, token, kinds] = process.argv.slice(-3);
const { existsSync } = require('node:fs');
const headers = { authorization: 'Bearer ' + token, 'content-type': 'application/json' };
const counts = { ok: 0, failed: [] };
const requests = {
  get: () => fetch(base + '/v1/1', { headers }),
  search: () => fetch(base + '/v1/?contains=maison&limit=5', { headers }),
  bulk: (n) => fetch(base + '/v1/bulk', { method: 'POST', headers, body: JSON.stringify({ items: [{ title: 'loop ' + n, date: '2020-01-01' }] }) }),
};
const check = async (what, request) => {
  try {
    const response = await request();
    await response.arrayBuffer();
    if (response.status === 200) counts.ok++; else counts.failed.push(what + ' ' + response.status);
  } catch (error) { counts.failed.push(what + ' ' + (error.cause?.code ?? error.message)); }
};
(async () => {
  for (let n = 1; !existsSync('/tmp/stop') && n < 100000; n++) {
    for (const kind of kinds.split(',')) await check(kind, () => requests[kind](n));
  }
  console.log(JSON.stringify(counts));
})();`;

/**
 * A client in `pod` (one with node: a stand-in or the service image) looping requests to `base`
 * with `token` until stopped; `stop` returns what it counted: 200s, and every other answer or error.
 */
export function loopingClient(namespace: string, pod: string, base: string, token: string, requests: Request[]): { stop: () => Promise<LoopCounts> } {
  const rm = kubectl(['exec', '-n', namespace, pod, '--', 'node', '-e', "require('node:fs').rmSync('/tmp/stop', { force: true })"]);
  must(rm, `preparing the client in ${namespace}/${pod}`);
  const running = spawnKubectl(['exec', '-n', namespace, pod, '--', 'node', '-e', loop, '--', base, token, requests.join(',')]);
  return {
    stop: async () => {
      kubectl(['exec', '-n', namespace, pod, '--', 'node', '-e', "require('node:fs').writeFileSync('/tmp/stop', '')"]);
      return JSON.parse(await running) as LoopCounts;
    },
  };
}
