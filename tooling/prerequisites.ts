import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { Environment } from './environments.js';

/**
 * What an environment's cluster must hold before Argo CD's first sync, in one place: without them
 * the sync waves stall (a pod waiting for a Secret never turns healthy, and Applications only wait
 * for each other when Argo CD assesses their health). `make deploy-check ENV=... CLUSTER=1` checks
 * each against the current kubectl context; docs/gitops.md ("Before the first sync") lists them.
 */
export type Prerequisite = {
  what: string;
  /**
   * kubectl arguments that succeed, printing what was found, when the prerequisite is met; none
   * when kubectl cannot see it (a Redis outside the cluster): then it is only listed.
   */
  kubectl?: string[];
  /** The text the output must contain. */
  contains?: string;
  /** A Secret: checked with `kubectl get secret -o json`, each key holding a value. */
  secret?: { namespace: string; name: string; keys: string[] };
  /** A host the service connects to that this prerequisite provides. */
  host?: string;
  how: string;
};

/** The resource metrics API, Available: what CPU-based autoscaling reads. */
const metricsServer = (why: string): Prerequisite => ({
  what: `metrics-server (the metrics.k8s.io API, Available): ${why}`,
  kubectl: ['get', 'apiservice', 'v1beta1.metrics.k8s.io', '-o', 'jsonpath={.status.conditions[?(@.type=="Available")].status}'],
  contains: 'True',
  how: 'install metrics-server (most managed clusters have it; EKS does not by default)',
});

const secret = (namespace: string, name: string, keys: string[], why: string): Prerequisite => ({
  what: `Secret ${namespace}/${name} with ${keys.map((key) => `"${key}"`).join(', ')}: ${why}`,
  secret: { namespace, name, keys },
  how: `kubectl create namespace ${namespace}; then your secret manager (External Secrets, Sealed Secrets, ...) makes the Secret; by hand: kubectl create secret generic -n ${namespace} ${name} ${keys.map((key) => `--from-literal=${key}=...`).join(' ')}`,
});

/**
 * What `kubectl apply -k k8s/overlays/<env>` needs besides what the overlay holds: the operators
 * whose kinds it applies, and the Redis its values name with that Redis's password Secret.
 */
export function kubectlPrerequisitesOf(environment: Environment): Prerequisite[] {
  const values = parse(readFileSync(`argocd/values/records/${environment}.yaml`, 'utf8')) as {
    redis: { url: string; passwordSecret: { name: string; key: string } };
    serviceMonitor?: { enabled?: boolean };
    prometheusRule?: { enabled?: boolean };
  };
  const redis = new URL(values.redis.url);
  const prometheusKinds = [...(values.serviceMonitor?.enabled ? ['servicemonitors'] : []), ...(values.prometheusRule?.enabled ? ['prometheusrules'] : [])];
  return [
    ...prometheusKinds.map((plural) => ({
      what: `the Prometheus Operator's ${plural}.monitoring.coreos.com CRD: the overlay applies a ${plural === 'servicemonitors' ? 'ServiceMonitor' : 'PrometheusRule'} (without the CRD, kubectl apply stops at "no matches for kind")`,
      kubectl: ['get', 'crd', `${plural}.monitoring.coreos.com`, '-o', 'name'],
      how: 'install kube-prometheus-stack (or the Prometheus Operator\'s CRDs), whose Prometheus the values\' serviceMonitor labels select',
    })),
    {
      what: 'mariadb-operator (its CRDs and controller): it runs the MariaDB of argocd/database/<env> and generates records-db-password',
      kubectl: ['get', 'crd', 'mariadbs.k8s.mariadb.com', '-o', 'name'],
      how: 'install the mariadb-operator-crds and mariadb-operator charts at the versions argocd/apps/values.yaml pins',
    },
    {
      what: 'KEDA (its CRDs and operator): the service scales with a ScaledObject',
      kubectl: ['get', 'crd', 'scaledobjects.keda.sh', '-o', 'name'],
      how: 'install the keda chart at the version argocd/apps/values.yaml pins',
    },
    metricsServer("the service's ScaledObject scales on CPU too; without the API that trigger reads nothing"),
    {
      what: `Redis at ${redis.host}, with the ACL user ${decodeURIComponent(redis.username)} (docs/gitops.md, "Redis users")`,
      ...(redis.hostname.endsWith('.svc.cluster.local') ? { kubectl: ['get', 'service', '-n', redis.hostname.split('.')[1] as string, redis.hostname.split('.')[0] as string, '-o', 'name'] } : {}),
      host: redis.hostname,
      how: redis.hostname.endsWith('.svc.cluster.local') ? 'install Valkey with argocd/values/valkey/staging.yaml (the valkey chart, namespace data)' : 'your managed Redis, with the ACL users of docs/gitops.md',
    },
    secret('records', values.redis.passwordSecret.name, [values.redis.passwordSecret.key], 'the service\'s Redis password'),
  ];
}

/** Where the AppProject CRD declares clusterResourceWhitelist[].name (Argo CD 3.3 on), as a kubectl JSONPath. */
export const ARGOCD_WHITELIST_NAME = '.spec.versions[?(@.name=="v1alpha1")].schema.openAPIV3Schema.properties.spec.properties.clusterResourceWhitelist.items.properties.name';

export function prerequisitesOf(environment: Environment): Prerequisite[] {
  const apps = parse(readFileSync(`argocd/apps/values-${environment}.yaml`, 'utf8')) as { valkey?: { enabled?: boolean }; prerequisites?: Record<string, boolean> };
  const kong = parse(readFileSync(`kong/environments/${environment}.yaml`, 'utf8')) as { tls: { clusterIssuer: string } };
  const list: Prerequisite[] = [
    {
      // Told by the feature, not a version string (images are often mirrored and retagged).
      what: "Argo CD 3.3 or newer: its AppProject CRD keeps clusterResourceWhitelist[].name (an older one prunes it, and records-platform would permit every ClusterRole and ClusterRoleBinding instead of the upstream charts' own)",
      kubectl: ['get', 'crd', 'appprojects.argoproj.io', '-o', `jsonpath={${ARGOCD_WHITELIST_NAME}.type}`],
      contains: 'string',
      how: 'upgrade Argo CD to 3.3 or newer before applying argocd/projects.yaml (docs/gitops.md)',
    },
    {
      what: 'argocd-cm assesses the health of Applications (resource.customizations.health.argoproj.io_Application), so sync waves wait for each other',
      kubectl: ['get', 'configmap', '-n', 'argocd', 'argocd-cm', '-o', 'jsonpath={.data.resource\\.customizations\\.health\\.argoproj\\.io_Application}'],
      contains: 'hs.status',
      how: 'add the health check of docs/gitops.md ("Before the first sync") to argocd-cm',
    },
    metricsServer("Kong's HPA and the service's ScaledObject scale on CPU; without it Argo CD holds Kong's HPA Degraded and the waves after Kong never start"),
    {
      // No one object tells it: a cloud's controller, or MetalLB, or none.
      what: "a load-balancer controller: Kong's proxy is a Service of type LoadBalancer, which Argo CD holds Progressing until it has an address",
      how: "your cloud's load-balancer controller, or MetalLB on bare metal",
    },
    secret('kong', 'kong-ratelimit-redis', ['password'], "the password of Kong's Redis ACL user kong (its rate limiter and the jwks-sync probe)"),
  ];
  if (apps.valkey?.enabled) {
    list.push(
      secret('data', 'valkey-users', ['default', 'records', 'kong'], "the passwords of Valkey's ACL users (argocd/values/valkey/staging.yaml)"),
      secret('records', 'valkey-users', ['records'], "the password of Valkey's ACL user records, for the service"),
    );
  } else {
    list.push(secret('records', 'records-redis', ['password'], "the password of the managed Redis's ACL user records (create the users of docs/gitops.md there)"));
  }
  if (apps.prerequisites?.certManagerCRDs) {
    list.push({
      what: `cert-manager and its ClusterIssuer ${kong.tls.clusterIssuer} (Kong's certificate, a DNS-01 solver: docs/gateway.md)`,
      kubectl: ['get', 'clusterissuer', kong.tls.clusterIssuer, '-o', 'name'],
      how: 'install cert-manager and create the ClusterIssuer with a DNS-01 solver',
    });
  }
  if (apps.prerequisites?.prometheusOperatorCRDs) {
    list.push({
      what: 'the Prometheus Operator (kube-prometheus-stack): ServiceMonitor, PodMonitor and PrometheusRule CRDs',
      kubectl: ['get', 'crd', 'servicemonitors.monitoring.coreos.com', 'podmonitors.monitoring.coreos.com', 'prometheusrules.monitoring.coreos.com', '-o', 'name'],
      how: 'install kube-prometheus-stack (its release label: kube-prometheus-stack)',
    });
  } else {
    // Without the operator nothing here can hand Prometheus its rules (no PrometheusRule), and the
    // Prometheus is not this project's to configure: listed, not checked.
    list.push({
      what: "a Prometheus that loads the alert rules: the prometheus-community chart has no PrometheusRule, so without them in its serverFiles no alert of the gateway or the service fires (KongRateLimiterRedisDown is the only sign that Kong's fault-tolerant rate limiter lets everything through)",
      how: `add to its serverFiles "alerting_rules.yml" the groups of kong/alerts.yaml and the service's: helm template records charts/records -n records -f argocd/values/records/${environment}.yaml --api-versions keda.sh/v1alpha1/ScaledObject --set prometheusRule.enabled=true --show-only templates/prometheusrule.yaml (its spec.groups)`,
    });
  }
  return list;
}
