import type { K8sObject } from '../support/tools.js';

/**
 * The project's model of the pod mariadb-operator 26.6.0 builds for a `MariaDB` (its pod builder,
 * read in the operator's source; the operator itself cannot run here): the pod's securityContext
 * is spec.podSecurityContext, with runAsNonRoot, runAsUser, runAsGroup and fsGroup filled in
 * where unset (the builder adds nothing else); the mariadb container takes spec.securityContext
 * and spec.resources; with Galera, an init container and the agent sidecar take
 * spec.galera.initContainer and spec.galera.agent (securityContext, resources). Dry-run creates
 * of it meet the API server's real admission: Pod Security and the namespace's LimitRange.
 */
export function operatorPod(mariadb: K8sObject): K8sObject {
  const spec = mariadb.spec;
  const container = (name: string, source: { securityContext?: object; resources?: object } | undefined) => ({
    name,
    image: 'docker-registry1.mariadb.com/library/mariadb:11.8',
    ...(source?.securityContext ? { securityContext: source.securityContext } : {}),
    ...(source?.resources ? { resources: source.resources } : {}),
  });
  const galera = spec.galera?.enabled ? spec.galera : null;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `${mariadb.metadata.name}-0`, labels: { 'app.kubernetes.io/name': 'mariadb', 'app.kubernetes.io/instance': mariadb.metadata.name } },
    spec: {
      securityContext: { runAsNonRoot: true, runAsUser: 999, runAsGroup: 999, fsGroup: 999, ...spec.podSecurityContext },
      ...(galera ? { initContainers: [container('init', galera.initContainer)] } : {}),
      containers: [container('mariadb', spec), ...(galera ? [container('agent', galera.agent)] : [])],
    },
  };
}
