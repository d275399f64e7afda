import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parse } from 'yaml';
import { kubectlPrerequisitesOf, prerequisitesOf, type Prerequisite } from '../../tooling/prerequisites.js';
import { ENVIRONMENTS } from '../../tooling/environments.js';
import { deployedBy } from '../support/argocd-apps.js';
import { kustomize, renderApps, type K8sObject } from '../support/tools.js';

/**
 * The Secrets a tree of values or objects names, under the keys charts, pods and operators read
 * them by: those it reads, and those it has made for it (an operator's `generate: true`).
 */
function secretsIn(tree: unknown): { read: string[]; made: string[] } {
  const read: string[] = [];
  const made: string[] = [];
  const walk = (node: unknown, key = ''): void => {
    if (typeof node === 'string' && key === 'usersExistingSecret' && node) read.push(node);
    if (node === null || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    const name = typeof record.name === 'string' ? record.name : typeof record.secretName === 'string' ? record.secretName : null;
    if (name && /^(secretKeyRef|secretRef|secret|passwordSecret|passwordSecretKeyRef|rootPasswordSecretKeyRef)$/.test(key)) (record.generate === true ? made : read).push(name);
    for (const [child, value] of Object.entries(record)) walk(value, child);
  };
  walk(tree);
  return { read, made };
}

/** The Secrets a list of prerequisites provides, as `namespace/name`. */
const secretsProvided = (prerequisites: Prerequisite[]) => prerequisites.flatMap(({ secret }) => (secret ? [`${secret.namespace}/${secret.name}`] : []));

describe('the prerequisites of the first sync (tooling/prerequisites.ts)', function () {
  for (const environment of ENVIRONMENTS) {
    it(`lists every Secret ${environment} reads that nothing in the project makes`, function () {
      const read = (file: string) => parse(readFileSync(file, 'utf8'));
      const apps = read(`argocd/apps/values-${environment}.yaml`);
      const named = (file: string, namespace: string) => secretsIn(read(file)).read.map((name) => `${namespace}/${name}`);
      const referenced = [
        ...named(`argocd/values/records/${environment}.yaml`, 'records'),
        ...named(`kong/generated/${environment}/values.yaml`, 'kong'),
        ...(apps.valkey?.enabled ? named('argocd/values/valkey/staging.yaml', 'data') : []),
      ];
      // Made in the cluster: the passwords mariadb-operator generates for the MariaDB it runs.
      const made = new Set(kustomize(`argocd/database/${environment}`).flatMap((object) => secretsIn(object).made.map((name) => `records/${name}`)));
      const listed = secretsProvided(prerequisitesOf(environment));
      expect([...new Set(referenced)].filter((secret) => !made.has(secret)).sort()).to.deep.equal([...new Set(listed)].sort());
    });
  }
});

/** An autoscaler reading the metrics.k8s.io API: an HPA on a Resource metric, a ScaledObject with a cpu or memory trigger. */
const scalesOnResourceMetrics = (object: K8sObject): boolean =>
  (object.kind === 'HorizontalPodAutoscaler' && (object.spec?.metrics ?? []).some((metric: { type: string }) => metric.type === 'Resource')) ||
  (object.kind === 'ScaledObject' && (object.spec?.triggers ?? []).some((trigger: { type: string }) => trigger.type === 'cpu' || trigger.type === 'memory'));

/**
 * What the Applications deploy that only works with something the cluster must already run: an
 * autoscaler reading resource metrics (Kong's HPA, the records ScaledObject's cpu trigger) needs the
 * metrics.k8s.io API (metrics-server), without which Argo CD holds the HPA Degraded and the sync
 * waves stall; a LoadBalancer Service needs a load-balancer controller, without which Argo CD holds
 * it Progressing. Neither was listed.
 */
describe('the prerequisites of what the Applications deploy', function () {
  this.timeout(120_000);
  for (const environment of ENVIRONMENTS) {
    it(`lists metrics-server and a load-balancer controller where ${environment} deploys what needs them`, function () {
      const objects = renderApps(environment)
        .filter((app) => app.kind === 'Application')
        .flatMap((app) => deployedBy(app, environment));
      const readsResourceMetrics = objects.some(scalesOnResourceMetrics);
      // Kong's chart as kong/values.yaml sets it, where the upstream mirror has no render of this environment's values.
      const kong = parse(readFileSync('kong/values.yaml', 'utf8')) as { proxy: { type: string } };
      const loadBalanced = objects.some((object) => object.kind === 'Service' && object.spec?.type === 'LoadBalancer') || kong.proxy.type === 'LoadBalancer';
      expect(readsResourceMetrics && loadBalanced, 'this environment deploys both (else the test proves nothing)').to.equal(true);
      const prerequisites = prerequisitesOf(environment);
      const metrics = prerequisites.find((prerequisite) => prerequisite.kubectl?.includes('apiservice'));
      expect(metrics?.kubectl, 'metrics.k8s.io checked').to.include('v1beta1.metrics.k8s.io');
      expect(metrics?.contains).to.equal('True');
      expect(prerequisites.some((prerequisite) => /load-balancer controller/.test(prerequisite.what))).to.equal(true);
    });

    it(`says how the alert rules reach ${environment}'s Prometheus (staging's were said to be loaded, and nothing loaded them)`, function () {
      const rulesAsObjects = renderApps(environment)
        .filter((app) => app.kind === 'Application')
        .flatMap((app) => deployedBy(app, environment))
        .filter((object) => object.kind === 'PrometheusRule');
      const listed = prerequisitesOf(environment).find((prerequisite) => /loads the alert rules/.test(prerequisite.what));
      // Rules as PrometheusRule objects (the operator loads them), or a prerequisite saying how to load them.
      expect(rulesAsObjects.length > 0 || listed !== undefined, 'alert rules loaded, or their loading listed').to.equal(true);
      if (listed) expect(listed.how).to.contain('kong/alerts.yaml').and.to.contain(`argocd/values/records/${environment}.yaml`);
    });
  }
});

describe('the kubectl-only overlays (k8s/overlays): complete, or honest about what they need', function () {
  for (const environment of ENVIRONMENTS) {
    it(`resolves every Secret and host of k8s/overlays/${environment} to an object it applies, or a listed prerequisite`, function () {
      const objects = kustomize(`k8s/overlays/${environment}`);
      const prerequisites = kubectlPrerequisitesOf(environment);
      const provided = new Set([
        ...objects.filter((object) => object.kind === 'Secret').map((object) => object.metadata.name),
        ...objects.flatMap((object) => secretsIn(object).made),
        // The chart's init-secret Job makes the Secret it is named (`records init-secret --name NAME`).
        ...objects
          .filter((object) => object.kind === 'Job')
          .flatMap((job) => (job.spec.template.spec.containers as Array<{ args?: string[] }>).map((container) => container.args ?? []))
          .filter((args) => args[0] === 'init-secret')
          .map((args) => args[args.indexOf('--name') + 1] as string),
        ...secretsProvided(prerequisites).map((secret) => secret.split('/')[1] as string),
      ]);
      const unresolved = [...new Set(objects.flatMap((object) => secretsIn(object).read))].filter((name) => !provided.has(name));
      expect(unresolved, 'Secrets nothing makes').to.deep.equal([]);

      // Every kind from a CRD (an API group outside Kubernetes' own) has its CRD listed, or an
      // operator that installs its group's CRDs: the production overlay's ServiceMonitor and
      // PrometheusRule were not, and kubectl apply stopped at "no matches for kind".
      const builtIn = /^(v1|(apps|batch|policy|networking\.k8s\.io|rbac\.authorization\.k8s\.io|autoscaling)\/\w+)$/;
      const kinds = [...new Set(objects.filter((object) => !builtIn.test(object.apiVersion)).map((object) => `${object.kind.toLowerCase()}s.${object.apiVersion.split('/')[0]}`))];
      const crdOf = (prerequisite: Prerequisite) => (prerequisite.kubectl?.[1] === 'crd' ? (prerequisite.kubectl[2] ?? '') : '');
      for (const crd of kinds) {
        const group = crd.slice(crd.indexOf('.') + 1);
        const listed = prerequisites.some((prerequisite) => crdOf(prerequisite) === crd || (crdOf(prerequisite).endsWith(`.${group}`) && /its CRDs/.test(prerequisite.what)));
        expect(listed, `a prerequisite names the CRD ${crd}`).to.equal(true);
      }

      // A cpu trigger reads the metrics.k8s.io API: metrics-server is listed (it was not).
      expect(objects.some(scalesOnResourceMetrics), 'the overlay scales on CPU (else this proves nothing)').to.equal(true);
      expect(prerequisites.some((prerequisite) => prerequisite.kubectl?.includes('v1beta1.metrics.k8s.io')), 'metrics-server listed').to.equal(true);

      // Hosts of the service's URLs: a Service it applies, one mariadb-operator makes for the
      // MariaDB it applies (its name, and NAME-primary for Galera), or a prerequisite's host.
      const mariadbs = objects.filter((object) => object.kind === 'MariaDB').map((object) => object.metadata.name);
      const services = new Set([
        ...objects.filter((object) => object.kind === 'Service').map((object) => `${object.metadata.name}.${object.metadata.namespace}`),
        ...mariadbs.flatMap((name) => [`${name}.records`, `${name}-primary.records`]),
      ]);
      // The service's settings: the ConfigMap, and the Secret that carries DATABASE_URL.
      const settings = Object.assign({}, ...objects.filter((object) => object.metadata.name === 'records' && /^(ConfigMap|Secret)$/.test(object.kind)).map((object) => ({ ...object.data, ...object.stringData })));
      for (const variable of ['DATABASE_URL', 'REDIS_URL']) {
        const host = new URL(settings[variable]).hostname;
        const inCluster = /^([^.]+)\.([^.]+)\.svc\.cluster\.local$/.exec(host);
        const resolved = (inCluster && services.has(`${inCluster[1]}.${inCluster[2]}`)) || prerequisites.some((prerequisite) => prerequisite.host === host);
        expect(resolved, `${variable} host ${host}`).to.equal(true);
      }
    });

    it(`names in k8s/overlays/${environment}/kustomization.yaml what it installs and what the user provides, and no Secret nothing reads`, function () {
      const text = readFileSync(`k8s/overlays/${environment}/kustomization.yaml`, 'utf8');
      expect(text).to.contain(`../../../argocd/database/${environment}`);
      expect(text).to.contain('mariadb-operator and KEDA');
      expect(text).to.not.match(new RegExp(`records-${environment}\\b`));
    });
  }
});
