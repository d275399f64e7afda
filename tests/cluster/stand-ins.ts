import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { K8sObject } from '../support/tools.js';
import { asKubectlInput, kubectl, must } from './cluster.js';
import { operatorPod } from './mariadb-pods.js';

/**
 * What the kubectl install paths (k8s/overlays/<env>) take from outside the project, provided on
 * the real node the way it would exist on a real cluster:
 *
 * - **mariadb-operator, played** (the one played controller of the cluster suite: the operator
 *   cannot run here, its module is refused by the module proxy and its code is on no registry this
 *   machine reaches). For a `MariaDB` it makes what the operator makes that the records service
 *   uses: the Secrets it generates, one pod of the shape its pod builder gives (operatorPod: the
 *   object's pod and container security settings and resources, so admission is the real one)
 *   running the test MariaDB image (Debian's 10.11 with the project's entrypoint creating the
 *   database and user), its myCnf, and the Services named after the object (and `-primary` with
 *   Galera). It does not play:
 *   Galera (one pod where production asks for three), the operator's init container and agent,
 *   the status, backups, upgrades.
 * - **Redis where Valkey is expected**, as a user provides it for the kubectl path: Debian's
 *   redis-server (same protocol) behind Service valkey in namespace data, with the ACL users of
 *   argocd/values/valkey/staging.yaml and the Secret valkey-users, and the NetworkPolicy a user
 *   adds so the records pods may reach it through that namespace's default deny.
 */

const chartMariadbImage = () => {
  const { mariadb } = parse(readFileSync('charts/records/values.yaml', 'utf8'));
  return `${mariadb.image.repository}:${mariadb.image.tag}`;
};

const password = () => randomBytes(18).toString('base64url');

type Owner = { apiVersion: string; kind: string; name: string; uid: string; controller: true };

/** A Secret with one generated key, unless it exists (what `generate: true` makes the operator do). */
function generated(namespace: string, ref: { name: string; key: string }, owners: Owner[]): void {
  if (kubectl(['get', 'secret', '-n', namespace, ref.name]).status === 0) return;
  const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: ref.name, namespace, ownerReferences: owners }, stringData: { [ref.key]: password() } };
  must(kubectl(['create', '-f', '-'], asKubectlInput([secret as K8sObject])), `Secret ${ref.name}`);
}

/** Plays mariadb-operator for `mariadb` (see above); returns what removes what it made. */
export function playMariadbOperator(mariadb: K8sObject): () => void {
  const { name, namespace } = mariadb.metadata as { name: string; namespace: string };
  const spec = mariadb.spec;
  // A live MariaDB (Argo CD's) owns what is made for it, as the operator's objects are owned: they
  // go with it, by the cluster's garbage collector.
  const uid = (mariadb.metadata as { uid?: string }).uid;
  const owners: Owner[] = uid ? [{ apiVersion: mariadb.apiVersion, kind: mariadb.kind, name, uid, controller: true }] : [];
  generated(namespace, spec.rootPasswordSecretKeyRef, owners);
  generated(namespace, spec.passwordSecretKeyRef, owners);
  const pod = operatorPod(mariadb);
  const labels = pod.metadata.labels as Record<string, string>;
  const fromSecret = (ref: { name: string; key: string }) => ({ valueFrom: { secretKeyRef: { name: ref.name, key: ref.key } } });
  const probe = { exec: { command: ['healthcheck.sh', '--connect', '--innodb_initialized'] }, periodSeconds: 5, failureThreshold: 60 };
  const container = {
    ...pod.spec.containers[0],
    image: chartMariadbImage(),
    env: [
      { name: 'MARIADB_ROOT_PASSWORD', ...fromSecret(spec.rootPasswordSecretKeyRef) },
      { name: 'MARIADB_DATABASE', value: spec.database },
      { name: 'MARIADB_USER', value: spec.username },
      { name: 'MARIADB_PASSWORD', ...fromSecret(spec.passwordSecretKeyRef) },
    ],
    ports: [{ name: 'mysql', containerPort: 3306, protocol: 'TCP' }],
    startupProbe: probe,
    readinessProbe: { ...probe, failureThreshold: 3 },
    volumeMounts: [
      { name: 'storage', mountPath: '/var/lib/mysql' },
      { name: 'run', mountPath: '/run/mysqld' },
      { name: 'config', mountPath: '/etc/mysql/mariadb.conf.d/99-my.cnf', subPath: 'my.cnf' },
    ],
  };
  const objects = [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${name}-config`, namespace }, data: { 'my.cnf': spec.myCnf ?? '' } },
    // With Galera the operator adds <name>-primary, where writes go: here the same one pod.
    ...[name, ...(spec.galera?.enabled ? [`${name}-primary`] : [])].map((service) => (
      { apiVersion: 'v1', kind: 'Service', metadata: { name: service, namespace }, spec: { selector: labels, ports: [{ name: 'mysql', port: 3306, targetPort: 3306 }] } })),
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name, namespace },
      spec: {
        serviceName: name,
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            securityContext: pod.spec.securityContext,
            automountServiceAccountToken: false,
            containers: [container],
            volumes: [{ name: 'run', emptyDir: {} }, { name: 'config', configMap: { name: `${name}-config` } }],
          },
        },
        volumeClaimTemplates: [{ metadata: { name: 'storage' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: spec.storage.size } } } }],
      },
    },
  ] as K8sObject[];
  for (const object of objects) Object.assign(object.metadata, { ownerReferences: owners });
  must(kubectl(['apply', '-f', '-'], asKubectlInput(objects)), `playing mariadb-operator for ${name}`);
  return () => {
    kubectl(['delete', '--wait=false', '--ignore-not-found', '-f', '-'], asKubectlInput(objects));
    kubectl(['delete', 'pvc', '-n', namespace, `storage-${name}-0`, '--wait=false', '--ignore-not-found']);
    kubectl(['delete', 'secret', '-n', namespace, spec.rootPasswordSecretKeyRef.name, spec.passwordSecretKeyRef.name, '--ignore-not-found']);
  };
}

/** The ACL users of argocd/values/valkey/staging.yaml: name and permissions. */
function aclUsers(): Array<[string, string]> {
  const { auth } = parse(readFileSync('argocd/values/valkey/staging.yaml', 'utf8')) as { auth: { aclUsers: Record<string, { permissions: string }> } };
  return Object.entries(auth.aclUsers).map(([user, { permissions }]) => [user, permissions]);
}

/**
 * What staging's secret manager holds for Valkey (docs/gitops.md): Secret valkey-users with one
 * password per ACL user in namespace data, the records user's in namespace records, and Kong's
 * rate-limit password in namespace kong (Secret kong-ratelimit-redis).
 */
export function valkeySecrets(): K8sObject[] {
  const passwords = Object.fromEntries(aclUsers().map(([user]) => [user, password()]));
  const secret = (namespace: string, name: string, data: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, stringData: data });
  return [secret('data', 'valkey-users', passwords), secret('records', 'valkey-users', { records: passwords.records! }), secret('kong', 'kong-ratelimit-redis', { password: passwords.kong! })];
}

/**
 * Redis as Valkey (same protocol) in namespace data: Debian's redis-server behind Service valkey,
 * with the ACL users of argocd/values/valkey/staging.yaml, each password read from Secret
 * valkey-users (valkeySecrets) as the chart's init script reads it.
 */
export function valkeyWorkload(): K8sObject[] {
  const labels = { 'app.kubernetes.io/name': 'valkey', 'app.kubernetes.io/instance': 'valkey' };
  const variable = (user: string) => `PASSWORD_${user.toUpperCase()}`;
  // One shell word per ACL word, the password from the environment: nothing secret in the spec.
  const acl = aclUsers().map(([user, permissions]) => ['--user', user, 'on', `">$${variable(user)}"`, ...permissions.split(/\s+/).map((word) => `'${word}'`)].join(' '));
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'valkey', namespace: 'data' }, spec: { selector: labels, ports: [{ name: 'tcp', port: 6379, targetPort: 6379 }] } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'valkey', namespace: 'data', labels },
      spec: {
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            automountServiceAccountToken: false,
            securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [{
              name: 'valkey',
              image: 'docker.io/library/redis:7',
              command: ['sh', '-c', `exec redis-server --port 6379 --save '' --appendonly no --dir /tmp ${acl.join(' ')}`],
              env: aclUsers().map(([user]) => ({ name: variable(user), valueFrom: { secretKeyRef: { name: 'valkey-users', key: user } } })),
              ports: [{ name: 'tcp', containerPort: 6379 }],
              readinessProbe: { tcpSocket: { port: 6379 }, periodSeconds: 2 },
              resources: { requests: { cpu: '50m', memory: '32Mi' }, limits: { memory: '128Mi' } },
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            }],
            volumes: [{ name: 'tmp', emptyDir: {} }],
          },
        },
      },
    },
  ] as K8sObject[];
}

/** Valkey as a user provides it for the kubectl path (see above); returns its remover. */
export function provideValkey(): () => void {
  const objects = [
    ...valkeySecrets().filter((secret) => secret.metadata.namespace !== 'kong'),
    ...valkeyWorkload(),
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'valkey', namespace: 'data' },
      spec: {
        podSelector: { matchLabels: { 'app.kubernetes.io/name': 'valkey' } },
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'records' } } }], ports: [{ port: 6379, protocol: 'TCP' }] }],
      },
    },
  ] as K8sObject[];
  must(kubectl(['apply', '-f', '-'], asKubectlInput(objects)), 'Valkey');
  must(kubectl(['rollout', 'status', '-n', 'data', 'deployment/valkey', '--timeout', '120s']), 'Valkey ready');
  return () => {
    kubectl(['delete', '--wait=false', '--ignore-not-found', '-f', '-'], asKubectlInput(objects));
  };
}
