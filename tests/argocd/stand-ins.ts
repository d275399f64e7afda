import { kubectl } from '../cluster/cluster.js';
import type { K8sObject } from '../support/tools.js';

/**
 * What cannot happen in this suite yet, said once and used by the test and docs/gitops.md.
 *
 * The test cluster has a real node (scripts/node; the cluster suite runs its installs there), but
 * this suite still sends its pods to the nodes kwok plays (`playedNodesOnly`): pods are scheduled
 * and turn Ready, Job pods complete, but no container runs. So the operators the Applications
 * install never act, no cloud gives a load balancer an address, and no webhook or aggregated API
 * server answers the API server. Two things follow.
 */

/**
 * Objects left out of the upstream mirrors, each because the API server itself would call a server
 * that runs in a container: with them, every write they guard would be refused, or Argo CD would
 * wait for a health that cannot come.
 */
const LEFT_OUT_OF_MIRRORS = [
  {
    kind: 'ValidatingWebhookConfiguration',
    name: 'mariadb-operator-webhook',
    why: 'failurePolicy Fail, served by the operator: every write of a MariaDB would be refused',
  },
  {
    kind: 'APIService',
    name: 'v1beta1.external.metrics.k8s.io',
    why: "KEDA's metrics API server: the API server would mark the aggregated API unavailable and Argo CD would call it Progressing forever",
  },
  {
    kind: 'HorizontalPodAutoscaler',
    name: 'kong-kong',
    why: 'scales Kong on CPU from metrics-server, which does not run here: Argo CD calls an HPA without metrics Degraded',
  },
] as const;

export const leftOut = (object: K8sObject) => LEFT_OUT_OF_MIRRORS.some((entry) => entry.kind === object.kind && entry.name === object.metadata.name);

/**
 * Sends this suite's pods to kwok's played nodes: the real node takes none (a NoSchedule taint),
 * kwok's nodes lose theirs. The images of KEDA, Kong, Valkey and mariadb-operator are not built
 * here yet, so on the real node their pods could not start.
 */
export function playedNodesOnly(): void {
  const taint = (args: string[]) => {
    const result = kubectl(['taint', 'nodes', ...args]);
    if (result.status !== 0) throw new Error(`kubectl taint nodes ${args.join(' ')}: ${result.stderr}`);
  };
  taint(['records-node', 'records.test/argocd-suite=played:NoSchedule', '--overwrite']);
  taint(['-l', 'type=kwok', 'kwok.x-k8s.io/node-']);
}

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

type StandIn = { controller: string; writes: string; play: () => string[] };

function listed(resource: string): K8sObject[] {
  const result = kubectl(['get', resource, '--all-namespaces', '-o', 'json']);
  return result.status === 0 ? JSON.parse(result.stdout).items : []; // the CRD may not be installed yet
}

function patchStatus(object: K8sObject, resource: string, status: object): string {
  const result = kubectl(['patch', resource, object.metadata.name, '-n', object.metadata.namespace ?? '', '--subresource', 'status', '--type', 'merge', '-p', JSON.stringify({ status })]);
  if (result.status !== 0) throw new Error(`playing the status of ${resource}/${object.metadata.name}: ${result.stderr}`);
  return `${object.kind}/${object.metadata.name}`;
}

const isReady = (object: K8sObject) => (object.status?.conditions ?? []).some((condition: { type: string; status: string }) => condition.type === 'Ready' && condition.status === 'True');

/**
 * Controllers that run in containers, played by the test: each writes only the status its
 * controller writes once its work is done, and only on objects Argo CD created. Everything else
 * (sync, waves, hooks, health assessment, pruning, self-heal) is Argo CD's own.
 */
/** Marks each object of `resource` that is not Ready yet as Ready, as its operator does when done. */
const markReady = (resource: string, condition: { reason: string; message: string; lastTransitionTime?: string }) => () =>
  listed(resource)
    .filter((object) => !isReady(object))
    .map((object) => patchStatus(object, resource, { conditions: [{ type: 'Ready', status: 'True', ...condition }] }));

export const STAND_INS: StandIn[] = [
  {
    controller: 'mariadb-operator',
    writes: 'a MariaDB is Ready (its StatefulSet is up)',
    play: () => markReady('mariadbs.k8s.mariadb.com', { reason: 'StatefulSetReady', message: 'Running', lastTransitionTime: now() })(),
  },
  {
    controller: 'KEDA operator',
    writes: 'a ScaledObject is Ready (its HPA is made)',
    play: markReady('scaledobjects.keda.sh', { reason: 'ScaledObjectReady', message: 'ScaledObject is defined correctly and is ready for scaling' }),
  },
  {
    controller: "the cloud's load-balancer controller",
    writes: 'a Service of type LoadBalancer has an address',
    play: () =>
      listed('services')
        .filter((service) => service.spec?.type === 'LoadBalancer' && !service.status?.loadBalancer?.ingress?.length)
        .map((service) => patchStatus(service, 'services', { loadBalancer: { ingress: [{ ip: '127.0.0.1' }] } })),
  },
];

/** One round of every stand-in; returns what each wrote. */
export function playStandIns(): string[] {
  return STAND_INS.flatMap((standIn) => standIn.play());
}

const secretAbsent = (name: string) => () => kubectl(['get', 'secret', name, '-n', 'records']).status !== 0;

/**
 * What the production Applications rely on that no Application creates, so nothing here can make
 * it real: Argo CD still converges (kwok starts no container, so nothing reads them), but on a real
 * cluster the records pods wait for each of these. Each `absent` check holds on the test cluster.
 */
export const OUTSIDE_THE_CLUSTER = {
  production: [
    { what: 'Secret records-redis (the managed Redis password), made by your secret manager', absent: secretAbsent('records-redis') },
    { what: 'Secret records-db-password, generated by mariadb-operator once its MariaDB runs', absent: secretAbsent('records-db-password') },
    {
      what: 'the managed Redis of argocd/values/records/production.yaml (redis.url), outside the cluster',
      absent: () => kubectl(['get', 'services', '--all-namespaces', '-o', 'name']).stdout.split('\n').every((service) => !service.includes('records-cache')),
    },
  ],
};
