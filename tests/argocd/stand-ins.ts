import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { kubectl } from '../cluster/cluster.js';
import { randomBytes } from 'node:crypto';
import { asKubectlInput } from '../cluster/cluster.js';
import { playMariadbOperator, valkeySecrets, valkeyWorkload } from '../cluster/stand-ins.js';
import type { LiveObject } from './argocd.js';
import type { K8sObject } from '../support/tools.js';

/**
 * What is played in the Argo CD suite, used by the test and described in docs/gitops.md; every
 * suite's list is docs/stand-ins.md.
 *
 * The suite runs on the test cluster's real node (scripts/node): every pod the Applications make
 * runs in containerd from images in the loopback registry, KEDA's three programs, metrics-server
 * and Prometheus built from their Go modules. Two things cannot run here, because their code is on
 * no registry these machines reach: mariadb-operator and Kong's proxy (OpenResty with Kong's
 * patches). Both are played, in the open: the operator's result by playedFor below, Kong's
 * proxy by a labelled image under Kong's name (tools/images/kong-stand-in: answers the chart's
 * probes, proxies nothing). Played too, because they live outside any cluster: a cloud's
 * load-balancer controller, and your secret manager.
 */

/** Objects left out of the upstream mirrors: the operator that cannot run, and what only it serves. */
const LEFT_OUT_OF_MIRRORS = [
  ...['mariadb-operator', 'mariadb-operator-webhook', 'mariadb-operator-cert-controller'].map((name) => ({
    kind: 'Deployment',
    name,
    why: "mariadb-operator's image cannot be built here (its module is refused by the module proxy): its result is played (playedFor)",
  })),
  {
    kind: 'ValidatingWebhookConfiguration',
    name: 'mariadb-operator-webhook',
    why: 'failurePolicy Fail, served by the operator that does not run: every write of a MariaDB would be refused',
  },
] as const;

export const leftOut = (object: K8sObject) => LEFT_OUT_OF_MIRRORS.some((entry) => entry.kind === object.kind && entry.name === object.metadata.name);

/**
 * Valkey's chart cannot be rendered here (no chart repository; the upstream data holds its objects
 * but not its init script), so its mirror holds the project's Valkey instead: Debian's
 * redis-server under Service valkey with the ACL users of argocd/values/valkey/staging.yaml, the
 * passwords from Secret valkey-users (tests/cluster/stand-ins.ts). The records pods connect to it
 * as the records ACL user, as they would to Valkey.
 */
export const VALKEY_MIRROR = { objects: () => valkeyWorkload(), note: "the project's Valkey (Debian's redis-server with staging's ACL users): the chart's init script is not in the upstream data" };

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
const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/** The MariaDB's pod (the StatefulSet playMariadbOperator made) is Ready. */
function podReady(mariadb: K8sObject): boolean {
  const result = kubectl(['get', 'statefulset', mariadb.metadata.name, '-n', mariadb.metadata.namespace ?? '', '-o', 'json']);
  return result.status === 0 && (JSON.parse(result.stdout).status?.readyReplicas ?? 0) >= 1;
}

/**
 * mariadb-operator, played: for each MariaDB Argo CD creates, what the operator makes that the
 * records service uses (playMariadbOperator: the Secrets, a MariaDB pod of the operator's shape
 * from the test image, the Services), owned by the MariaDB; then, once that pod is Ready by its
 * probe, the status the operator writes. Not played: Galera (one pod where production asks for
 * three), the operator's agent and init containers, users and grants beyond the entrypoint's one
 * user, backups, upgrades.
 */
function playOperator(): string[] {
  return (listed('mariadbs.k8s.mariadb.com') as LiveObject[])
    .filter((mariadb) => !isReady(mariadb) && !mariadb.metadata.deletionTimestamp)
    .flatMap((mariadb) => {
      if (kubectl(['get', 'statefulset', mariadb.metadata.name, '-n', mariadb.metadata.namespace ?? '']).status !== 0) playMariadbOperator(mariadb);
      if (!podReady(mariadb)) return [];
      return [patchStatus(mariadb, 'mariadbs.k8s.mariadb.com', { conditions: [{ type: 'Ready', status: 'True', reason: 'StatefulSetReady', message: 'Running', lastTransitionTime: now() }] })];
    });
}

const generatedPassword = () => randomBytes(18).toString('base64url');
const namespaceExists = (name: string) => kubectl(['get', 'namespace', name]).status === 0;

/**
 * Your secret manager, played (External Secrets or the like): the Secrets docs/gitops.md says it
 * provides, each written once its namespace exists. Staging: the Valkey users' passwords
 * (valkeySecrets). Production: the managed Redis password for the records service and for Kong.
 */
function secretManager(environment: string): StandIn {
  const secrets: K8sObject[] =
    environment === 'staging'
      ? valkeySecrets()
      : [
          { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'records-redis', namespace: 'records' }, stringData: { password: generatedPassword() } },
          { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'kong-ratelimit-redis', namespace: 'kong' }, stringData: { password: generatedPassword() } },
        ];
  return {
    controller: 'your secret manager',
    writes: secrets.map((secret) => `Secret ${secret.metadata.namespace}/${secret.metadata.name}`).join(', '),
    play: () =>
      secrets
        .filter((secret) => namespaceExists(secret.metadata.namespace!) && kubectl(['get', 'secret', secret.metadata.name, '-n', secret.metadata.namespace!]).status !== 0)
        .map((secret) => {
          kubectl(['create', '-f', '-'], asKubectlInput([secret]));
          return `Secret/${secret.metadata.name}`;
        }),
  };
}

/** The controllers played for `environment`: each round of `play` does what is due. */
export const playedFor = (environment: string): StandIn[] => [
  { controller: 'mariadb-operator', writes: "a MariaDB's Secrets, pod and Services, then its Ready status once the pod is Ready", play: playOperator },
  secretManager(environment),
  {
    controller: "the cloud's load-balancer controller",
    writes: 'a Service of type LoadBalancer has an address',
    play: () =>
      listed('services')
        .filter((service) => service.spec?.type === 'LoadBalancer' && !service.status?.loadBalancer?.ingress?.length)
        .map((service) => patchStatus(service, 'services', { loadBalancer: { ingress: [{ ip: '203.0.113.10' }] } })),
  },
];

/**
 * What the production Applications rely on that lives outside the cluster: the records pods serve
 * from the database with the cache off (the service's readiness does not depend on Redis).
 */
export const OUTSIDE_THE_CLUSTER = {
  production: [
    {
      what: `the managed Redis of argocd/values/records/production.yaml (${parse(readFileSync('argocd/values/records/production.yaml', 'utf8')).redis.url}), outside the cluster`,
      absent: () => kubectl(['get', 'services', '--all-namespaces', '-o', 'name']).stdout.split('\n').every((service) => !service.includes('records-cache')),
    },
  ],
};
