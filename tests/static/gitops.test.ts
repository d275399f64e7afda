import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { deployFiles, placeholdersIn } from '../../tooling/deploy-check.js';
import { kubectlPrerequisitesOf, prerequisitesOf, type Prerequisite } from '../../tooling/prerequisites.js';
import { ENVIRONMENTS } from '../../tooling/environments.js';
import { renderOverlay } from '../../tooling/k8s-manifests.js';
import { chartPolicyViolations } from '../support/chart-policy.js';
import { isBuiltIn, validateAll } from '../support/k8s-schema.js';
import { groupOf, projectViolations, unusedRules } from '../support/argocd-projects.js';
import { chartPin, chartPins, MIRROR_VARIABLE } from '../../tooling/upstream-mirror.js';
import { helmTemplate, kongRender, kustomize, parseObjects, renderApps, toolPath, upstreamDefaults, upstreamObjects, type K8sObject } from '../support/tools.js';

const REPO = 'https://github.com/records/records.git';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return entry === 'templates' ? [] : yamlFiles(path);
    return /\.ya?ml$/.test(entry) ? [path] : [];
  });
}

/** What a user applies by hand: the projects and the root Applications. */
function argocdManifests(): K8sObject[] {
  return ['argocd/projects.yaml', ...yamlFiles('argocd/root')].flatMap((file) => parseObjects(readFileSync(file, 'utf8')));
}

const sourcesOf = (app: K8sObject): any[] => app.spec.sources ?? [app.spec.source];

const upstream = upstreamObjects;

/** The objects an Application deploys, rendered as Argo CD renders them (hooks included, helm tests not). */
function deployedBy(app: K8sObject, environment: string): K8sObject[] {
  const name = app.metadata.name.replace(`-${environment}`, '');
  const chartSource = sourcesOf(app).find((source) => source.chart);
  const pinned = (chart: string, version: string) => expect(chartSource?.chart === chart && chartSource?.targetRevision === version, `${name} pins ${chart} ${version}`).to.equal(true);
  switch (name) {
    case 'cluster':
      return kustomize('k8s');
    case 'database':
      return kustomize(`argocd/database/${environment}`);
    case 'records': {
      const source = sourcesOf(app).find((candidate) => candidate.path === 'charts/records');
      const sets = (source.helm.parameters ?? []).map((parameter: { name: string; value: string }) => `${parameter.name}=${parameter.value}`);
      return helmTemplate([`argocd/values/records/${environment}.yaml`], sets).filter((object) => object.metadata.annotations?.['helm.sh/hook'] !== 'test');
    }
    case 'keda':
      pinned('keda', '2.20.2');
      return [...upstream('keda-2.20.2/crds.yaml'), ...upstream('keda-2.20.2/rendered-defaults.yaml')];
    case 'kong': {
      pinned('kong', '2.48.0');
      // The chart's render with this environment's values where the mirror has it; else what the
      // data allows: the extraObjects of the generated values through the chart's tpl pass. The
      // chart adds its cert-manager Certificate (certificates.proxy) only where the cluster serves
      // cert-manager's API, which a plain render does not assume: added here as the cluster has it.
      const kong = kongRender(environment);
      if (!kong.complete) console.log(`      kong (${environment}): ${kong.note}`);
      const generated = parse(readFileSync(`kong/generated/${environment}/values.yaml`, 'utf8'));
      const certificate: K8sObject = { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: 'kong-kong-proxy-cert' }, spec: { dnsNames: generated.certificates.proxy.dnsNames } };
      const certificates = kong.objects.some((object) => object.kind === 'Certificate') ? [] : [certificate];
      return [...upstream('kong-2.48.0/crds.yaml'), ...kong.objects, ...certificates];
    }
    case 'mariadb-operator-crds':
      pinned('mariadb-operator-crds', '26.6.0');
      return upstream('mariadb-operator-26.6.0/crds.yaml');
    case 'mariadb-operator':
      pinned('mariadb-operator', '26.6.0');
      return upstream('mariadb-operator-26.6.0/rendered-defaults.yaml');
    case 'valkey':
      pinned('valkey', '0.11.0');
      return upstream('valkey-0.11.0/rendered-defaults.yaml');
    default:
      throw new Error(`no rendering known for Application ${app.metadata.name}`);
  }
}

describe('upstream pins (tools/upstream.yaml)', function () {
  it('pins the charts Argo CD installs, at the versions argocd/apps/values.yaml installs', function () {
    const installed = parse(readFileSync('argocd/apps/values.yaml', 'utf8')).charts as Record<string, { repoURL: string; chart: string; version: string }>;
    const pinned = Object.fromEntries(chartPins().map(({ key, repoURL, chart, version }) => [key, { repoURL, chart, version }]));
    expect(pinned).to.deep.equal(installed);
  });

  it('takes Argo CD\'s CRDs from the version scripts/install-argocd builds', function () {
    const built = /^version=(v\S+)$/m.exec(readFileSync('scripts/install-argocd', 'utf8'))?.[1];
    const argocd = (parse(readFileSync('tools/upstream.yaml', 'utf8')).crdModules as Array<{ module: string; version: string }>).find((entry) => entry.module.startsWith('github.com/argoproj/argo-cd/'));
    expect(argocd?.version).to.equal(built);
  });

  it('fails at once, in one line naming RECORDS_UPSTREAM_MIRROR, without a mirror', function () {
    const result = spawnSync('node_modules/.bin/tsx', ['tooling/upstream.ts', 'dir'], { encoding: 'utf8', env: { ...process.env, [MIRROR_VARIABLE]: '/nonexistent/mirror' } });
    expect(result.status).to.equal(2);
    expect(result.stderr.trim().split('\n')).to.have.length(1);
    expect(result.stderr).to.contain('RECORDS_UPSTREAM_MIRROR');
  });
});

describe('the databases of argocd/database', function () {
  /** The server settings of a MariaDB's myCnf, as name -> value. */
  const settingsOf = (environment: string) => {
    const mariadb = kustomize(`argocd/database/${environment}`).find((object) => object.kind === 'MariaDB')!;
    return { mariadb, settings: Object.fromEntries((mariadb.spec.myCnf as string).split('\n').map((line) => line.trim()).filter((line) => /^[a-z_-]+=/.test(line)).map((line) => line.split('=') as [string, string])) };
  };

  it('run Galera\'s init container and agent from the operator\'s own image at its pinned version', function () {
    const { mariadb } = settingsOf('production');
    const operator = upstreamDefaults('mariadbOperator').find((object) => object.kind === 'Deployment' && object.metadata.name === 'mariadb-operator')!;
    const image = operator.spec.template.spec.containers[0].image as string;
    expect(image).to.match(new RegExp(`:${chartPin('mariadbOperator').version}$`));
    expect([mariadb.spec.galera.initContainer.image, mariadb.spec.galera.agent.image]).to.deep.equal([image, image]);
  });

  it('give one multi-row INSERT consecutive ids: Galera steps none, and the service writes to the primary', function () {
    for (const environment of ENVIRONMENTS) {
      const { mariadb, settings } = settingsOf(environment);
      if (mariadb.spec.galera?.enabled) {
        expect(settings, `${environment}: Galera's auto-increment control off`).to.include({ wsrep_auto_increment_control: 'OFF', auto_increment_increment: '1' });
        const url = parse(readFileSync(`argocd/values/records/${environment}.yaml`, 'utf8')).database.url as string;
        expect(new URL(url).hostname, `${environment}: every write through the primary Service`).to.match(/^records-db-primary\./);
      }
      expect(settings.auto_increment_increment ?? '1', environment).to.equal('1');
    }
  });
});

describe('GitOps: argocd/', function () {
  this.timeout(60_000);
  const projects = argocdManifests().filter((object) => object.kind === 'AppProject');
  const project = (name: string) => projects.find((candidate) => candidate.metadata.name === name) as K8sObject;

  it('has manifests that validate against the Argo CD schemas', async function () {
    const manifests = argocdManifests();
    expect(manifests.map((object) => object.kind).sort()).to.deep.equal(['AppProject', 'AppProject', 'AppProject', 'AppProject', 'Application', 'Application']);
    expect(await validateAll(manifests)).to.deep.equal([]);
  });

  it('splits projects: roots create only Applications; platform and app projects never deploy into argocd', function () {
    expect(projects.map((candidate) => candidate.metadata.name).sort()).to.deep.equal(['default', 'records-apps', 'records-bootstrap', 'records-platform']);
    // Argo CD's stock default project permits everything: shipped locked.
    expect(project('default').spec).to.deep.include({ sourceRepos: [], destinations: [], clusterResourceWhitelist: [] });
    expect(project('default').spec.namespaceResourceBlacklist).to.deep.equal([{ group: '*', kind: '*' }]);
    const servers = ENVIRONMENTS.map((environment) => parse(readFileSync(`argocd/apps/values-${environment}.yaml`, 'utf8')).destinationServer);
    expect(project('records-bootstrap').spec.destinations).to.deep.equal([{ server: 'https://kubernetes.default.svc', namespace: 'argocd' }]);
    expect(project('records-bootstrap').spec.namespaceResourceWhitelist).to.deep.equal([{ group: 'argoproj.io', kind: 'Application' }]);
    expect(project('records-bootstrap').spec.clusterResourceWhitelist).to.deep.equal([]);
    for (const name of ['records-platform', 'records-apps']) {
      const namespaces = project(name).spec.destinations.map((destination: { namespace: string }) => destination.namespace);
      expect(namespaces, name).not.to.include('argocd');
      expect(namespaces, name).not.to.include('*');
      expect(project(name).spec.sourceRepos, name).not.to.include('*');
      const destinationServers = [...new Set(project(name).spec.destinations.map((destination: { server: string }) => destination.server))].sort();
      expect(destinationServers, `${name}: each environment's cluster, never "*"`).to.deep.equal([...servers].sort());
    }
    for (const environment of ENVIRONMENTS) {
      for (const app of renderApps(environment)) expect(['records-platform', 'records-apps'], `${app.metadata.name}'s project`).to.include(app.spec.project);
    }
    // ClusterRoles and ClusterRoleBindings only by the names the upstream charts use.
    const rbac = project('records-platform').spec.clusterResourceWhitelist.filter((entry: { group: string }) => entry.group === 'rbac.authorization.k8s.io');
    expect(rbac.every((entry: { name?: string }) => entry.name && entry.name !== '*'), 'every cluster-wide RBAC entry names its objects').to.equal(true);
    expect([...new Set(project('records-apps').spec.destinations.map((destination: { namespace: string }) => destination.namespace))]).to.deep.equal(['records']);
    expect(project('records-apps').spec.clusterResourceWhitelist, 'namespaced objects only').to.deep.equal([]);
    for (const environment of ENVIRONMENTS) {
      const root = argocdManifests().find((object) => object.kind === 'Application' && object.metadata.name === `root-${environment}`) as K8sObject;
      expect(root.spec.project).to.equal('records-bootstrap');
      expect(projectViolations(project('records-bootstrap'), root, renderApps(environment))).to.deep.equal([]);
    }
  });

  it('permits every object each Application deploys, as Argo CD checks it, and nothing more', function () {
    const deployed = new Map<string, Array<{ app: K8sObject; objects: K8sObject[] }>>();
    const problems: string[] = [];
    for (const environment of ENVIRONMENTS) {
      for (const app of renderApps(environment)) {
        const objects = deployedBy(app, environment);
        expect(objects.length, app.metadata.name).to.be.greaterThan(0);
        problems.push(...projectViolations(project(app.spec.project), app, objects));
        deployed.set(app.spec.project, [...(deployed.get(app.spec.project) ?? []), { app, objects }]);
      }
    }
    expect(problems).to.deep.equal([]);
    for (const name of ['records-platform', 'records-apps']) expect(unusedRules(project(name), deployed.get(name) ?? []), name).to.deep.equal([]);
  });

  it('has a project check that refuses what Argo CD refuses', function () {
    const app = renderApps('staging').find((candidate) => candidate.metadata.name === 'keda-staging') as K8sObject;
    const found = projectViolations(project('records-apps'), { ...app, spec: { ...app.spec, destination: { server: 'https://x', namespace: '' } } }, upstream('keda-2.20.2/rendered-defaults.yaml')).join('\n');
    expect(found).to.contain('keda-staging: destination has no namespace');
    expect(found).to.contain('source https://kedacore.github.io/charts is not permitted in project records-apps');
    expect(found).to.contain('RoleBinding/keda-operator-auth-reader: namespace kube-system is not a destination of project records-apps');
    expect(found).to.contain('cluster-scoped rbac.authorization.k8s.io/ClusterRole is not in the clusterResourceWhitelist');
  });

  for (const environment of ENVIRONMENTS) {
    describe(`the ${environment} environment`, function () {
      let apps: K8sObject[];
      before(() => {
        apps = renderApps(environment);
      });
      const app = (name: string) => apps.find((candidate) => candidate.metadata.name === `${name}-${environment}`) as K8sObject;
      const wave = (name: string) => Number(app(name).metadata.annotations?.['argocd.argoproj.io/sync-wave']);

      it('renders Applications that validate against the Argo CD schema', async function () {
        expect(await validateAll(apps)).to.deep.equal([]);
      });

      it('has the platform, the database and records, with Valkey only outside production', function () {
        const names = apps.map((candidate) => candidate.metadata.name.replace(`-${environment}`, '')).sort();
        const common = ['cluster', 'database', 'keda', 'kong', 'mariadb-operator', 'mariadb-operator-crds', 'records'];
        expect(names).to.deep.equal(environment === 'production' ? common : [...common, 'valkey'].sort());
      });

      it('syncs the platform and data stores before the app', function () {
        expect(wave('cluster')).to.be.below(wave('mariadb-operator-crds'));
        expect(wave('mariadb-operator-crds')).to.be.below(wave('mariadb-operator'));
        expect(wave('mariadb-operator')).to.be.below(wave('database'));
        expect(wave('database')).to.be.below(wave('records'));
        expect(wave('keda')).to.be.below(wave('records'));
        expect(wave('kong')).to.be.below(wave('records'));
        if (environment !== 'production') expect(wave('valkey')).to.be.below(wave('records'));
      });

      it('renders no custom resource whose CRD an earlier wave (or a stated prerequisite) does not install', function () {
        const values = parse(readFileSync(`argocd/apps/values-${environment}.yaml`, 'utf8'));
        const builtIn = (object: K8sObject) => isBuiltIn(object.apiVersion) && !['k8s.mariadb.com', 'keda.sh', 'monitoring.coreos.com', 'argoproj.io', 'configuration.konghq.com', 'cert-manager.io'].includes(groupOf(object.apiVersion));
        const installedBy = apps.flatMap((candidate) =>
          deployedBy(candidate, environment)
            .filter((object) => object.kind === 'CustomResourceDefinition')
            .map((crd) => ({ group: crd.spec.group as string, kind: crd.spec.names.kind as string, wave: Number(candidate.metadata.annotations?.['argocd.argoproj.io/sync-wave']) })),
        );
        const missing: string[] = [];
        for (const candidate of apps) {
          const appWave = Number(candidate.metadata.annotations?.['argocd.argoproj.io/sync-wave']);
          for (const object of deployedBy(candidate, environment).filter((o) => !builtIn(o) && o.kind !== 'CustomResourceDefinition')) {
            const group = groupOf(object.apiVersion);
            const earlier = installedBy.some((crd) => crd.group === group && crd.kind === object.kind && crd.wave < appWave);
            const prerequisite =
              (group === 'monitoring.coreos.com' && values.prerequisites?.prometheusOperatorCRDs === true) ||
              (group === 'cert-manager.io' && values.prerequisites?.certManagerCRDs === true);
            if (!earlier && !prerequisite) missing.push(`${candidate.metadata.name}: ${object.kind}/${object.metadata.name}`);
          }
        }
        expect(missing).to.deep.equal([]);
      });

      it('syncs automatically with prune, self-heal, retries and server-side apply, never creating namespaces itself', function () {
        for (const candidate of apps) {
          const policy = candidate.spec.syncPolicy;
          expect(policy.automated, candidate.metadata.name).to.deep.equal({ prune: true, selfHeal: true });
          expect(policy.retry.limit).to.be.greaterThan(0);
          expect(policy.retry.backoff).to.include.keys('duration', 'factor', 'maxDuration');
          expect(policy.syncOptions).to.include.members(['ServerSideApply=true', 'RespectIgnoreDifferences=true']);
          // Namespaces come from k8s/, where they are never pruned or deleted.
          expect(policy.syncOptions).not.to.include('CreateNamespace=true');
        }
      });

      it('tracks main in staging and a pinned tag or commit in production', function () {
        const revisions = new Set(apps.flatMap((candidate) => sourcesOf(candidate).filter((source) => source.repoURL === REPO).map((source) => source.targetRevision)));
        const root = argocdManifests().find((object) => object.metadata.name === `root-${environment}`) as K8sObject;
        revisions.add(root.spec.source.targetRevision);
        if (environment === 'production') {
          expect([...revisions]).to.have.length(1);
          expect([...revisions][0]).to.match(/^(v\d+\.\d+\.\d+|[0-9a-f]{40})$/);
        } else expect([...revisions]).to.deep.equal(['main']);
      });

      it('ignores replica counts owned by autoscalers', function () {
        for (const name of ['records', 'kong']) {
          const pointers = app(name).spec.ignoreDifferences.flatMap((rule: { jsonPointers: string[] }) => rule.jsonPointers);
          expect(pointers, name).to.include('/spec/replicas');
        }
      });

      it('points every source in this repository at paths and values files that exist', function () {
        for (const candidate of apps) {
          for (const source of sourcesOf(candidate)) {
            if (source.repoURL === REPO) {
              if (source.path) expect(existsSync(source.path), `${candidate.metadata.name}: ${source.path}`).to.equal(true);
              else expect(source.ref, candidate.metadata.name).to.equal('values');
            }
            for (const file of source.helm?.valueFiles ?? []) {
              const path = file.startsWith('$values/') ? file.slice('$values/'.length) : join(source.path ?? '', file);
              expect(existsSync(path), `${candidate.metadata.name}: ${file}`).to.equal(true);
            }
          }
        }
      });

      it('pins external charts to exact versions', function () {
        for (const candidate of apps) {
          for (const source of sourcesOf(candidate).filter((s) => s.chart)) {
            expect(source.targetRevision, `${candidate.metadata.name}: ${source.chart}`).to.match(/^\d+\.\d+\.\d+$/);
          }
        }
      });

      it('turns an upstream chart with a mirror into a directory source of that mirror, and only that one', function () {
        const mirror = { repoURL: 'https://git.example.org/mirrors.git', targetRevision: 'v1', path: 'keda-2.20.2' };
        const result = spawnSync(toolPath('helm'), ['template', 'apps', 'argocd/apps', '-f', `argocd/apps/values-${environment}.yaml`, '--set-json', `charts.keda.mirror=${JSON.stringify(mirror)}`], { encoding: 'utf8' });
        expect(result.status, result.stderr).to.equal(0);
        const mirrored = parseObjects(result.stdout);
        const keda = mirrored.find((candidate) => candidate.metadata.name === `keda-${environment}`) as K8sObject;
        expect(keda.spec.source).to.deep.equal(mirror);
        expect(keda.spec.sources).to.equal(undefined);
        const others = (list: K8sObject[]) => list.filter((candidate) => candidate.metadata.name !== `keda-${environment}`);
        expect(others(mirrored)).to.deep.equal(others(apps));
      });

      it('renders the records chart with this environment\'s values, passing the chart\'s policy checks', async function () {
        const objects = deployedBy(app('records'), environment);
        const withTests = helmTemplate([`argocd/values/records/${environment}.yaml`]);
        expect(chartPolicyViolations(withTests, ['records-db-password', 'records-redis', 'valkey-users'])).to.deep.equal([]);
        expect(await validateAll(objects)).to.deep.equal([]);
        const scaled = objects.find((object) => object.kind === 'ScaledObject');
        if (environment === 'production') expect(scaled?.spec.minReplicaCount).to.be.at.least(2);
        // The Prometheus the ScaledObject queries must see the pods, with the labels the query uses.
        const service = objects.find((object) => object.kind === 'Service' && object.metadata.name === 'records') as K8sObject;
        const monitor = objects.find((object) => object.kind === 'ServiceMonitor');
        const values = parse(readFileSync(`argocd/values/records/${environment}.yaml`, 'utf8'));
        if (environment === 'production') {
          expect(monitor?.metadata.labels?.release, 'kube-prometheus-stack selects ServiceMonitors by release').to.equal('kube-prometheus-stack');
          expect(scaled?.spec.triggers[0].metadata.serverAddress).to.contain('kube-prometheus-stack-prometheus.monitoring');
        } else {
          expect(monitor).to.equal(undefined);
          expect(service.metadata.annotations).to.include({ 'prometheus.io/scrape': 'true', 'prometheus.io/path': '/metrics' });
          expect(scaled?.spec.triggers[0].metadata.serverAddress).to.contain('prometheus-server.monitoring');
        }
        // The rate window spans at least four scrapes.
        const seconds = (text: string) => Number(text.slice(0, -1)) * ({ s: 1, m: 60, h: 3600 } as Record<string, number>)[text.slice(-1)]!;
        const { rateWindow, scrapeInterval } = values.autoscaling.keda.prometheus;
        expect(seconds(rateWindow)).to.be.at.least(4 * seconds(scrapeInterval));
        if (monitor) expect(monitor.spec.endpoints[0].interval).to.equal(scrapeInterval);
        expect(scaled?.spec.triggers[0].metadata.query).to.contain(`[${rateWindow}]`);
      });
    });
  }

  it('keeps templates free of what `helm template` cannot render faithfully (lookup, random values, install/upgrade checks)', function () {
    const templates = ['charts/records/templates', 'argocd/apps/templates'].flatMap((dir) =>
      readdirSync(dir, { recursive: true }).map((file) => join(dir, String(file))).filter((file) => statSync(file).isFile()),
    );
    expect(templates.length).to.be.greaterThan(10);
    for (const file of templates) {
      expect(readFileSync(file, 'utf8'), file).not.to.match(/\blookup\b|\brand[A-Za-z]*\b|\buuidv4\b|genPrivateKey|genCA|\.Release\.Is(Upgrade|Install)|\bnow\b/);
    }
  });
});

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

describe('make deploy-check', function () {
  this.timeout(30_000);
  it('fails while production holds a placeholder, naming each, and passes once they are replaced', function () {
    const result = spawnSync('node_modules/.bin/tsx', ['tooling/deploy-check.ts', 'production'], { encoding: 'utf8' });
    expect(result.status).to.equal(1);
    expect(result.stderr).to.contain('the all-zero image digest');
    expect(result.stderr).to.contain('the example repository URL');
    const files = Object.fromEntries(deployFiles('production').map((path) => [path, readFileSync(path, 'utf8')]));
    const filled = Object.fromEntries(
      Object.entries(files).map(([path, text]) => [
        path,
        text
          .replaceAll('github.com/records/records', 'git.acme.test/platform/records')
          .replaceAll('ghcr.io/records/', 'registry.acme.test/records/')
          .replace(/([a-z0-9.-]*)example\.org/g, '$1acme.test')
          .replace(/sha256:0{64}/, `sha256:${'ab'.repeat(32)}`)
          .replaceAll('192.0.2.', '10.20.30.'),
      ]),
    );
    expect(placeholdersIn('production', filled)).to.deep.equal([]);
    const branch = { ...filled, 'argocd/root/production.yaml': filled['argocd/root/production.yaml']!.replace('targetRevision: v0.1.0', 'targetRevision: main') };
    expect(placeholdersIn('production', branch).join('\n')).to.contain('production tracks main');
  });
});

describe('cluster manifests: k8s/', function () {
  this.timeout(60_000);

  it('renders with kubectl kustomize and validates, strictly, against the Kubernetes schemas', async function () {
    const objects = kustomize('k8s');
    expect(await validateAll(objects)).to.deep.equal([]);
    const namespaces = objects.filter((object) => object.kind === 'Namespace');
    const records = namespaces.find((object) => object.metadata.name === 'records');
    expect(records?.metadata.labels).to.include({ 'pod-security.kubernetes.io/enforce': 'restricted' });
    for (const namespace of namespaces) {
      expect(namespace.metadata.labels, namespace.metadata.name).to.have.property('pod-security.kubernetes.io/enforce');
      // A sync that pruned or deleted a namespace would delete everything in it.
      expect(namespace.metadata.annotations?.['argocd.argoproj.io/sync-options'], namespace.metadata.name).to.equal('Prune=false,Delete=false');
    }
    expect(namespaces.map((namespace) => namespace.metadata.name).sort()).to.deep.equal(['data', 'keda', 'kong', 'mariadb-operator', 'records']);
    const denyAll = objects.filter((object) => object.kind === 'NetworkPolicy' && object.metadata.name === 'default-deny');
    expect(denyAll.map((policy) => policy.metadata.namespace).sort()).to.deep.equal(['data', 'records']);
    for (const policy of denyAll) expect(policy.spec).to.deep.equal({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    expect(objects.filter((object) => object.kind === 'ResourceQuota').length).to.be.greaterThan(0);
    expect(objects.filter((object) => object.kind === 'LimitRange').length).to.be.greaterThan(0);
  });

  it('sizes the records quota for production at maximum scale plus rollout surge, its Jobs and its database', function () {
    const quantity = (text: string | number) => {
      const match = /^([0-9.]+)(m|Ki|Mi|Gi)?$/.exec(String(text));
      const factor = { m: 0.001, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }[match?.[2] ?? ''] ?? 1;
      return Number(match?.[1]) * factor;
    };
    const objects = helmTemplate(['argocd/values/records/production.yaml']);
    const scaled = objects.find((object) => object.kind === 'ScaledObject') as K8sObject;
    const deployment = objects.find((object) => object.kind === 'Deployment') as K8sObject;
    const surge = Math.ceil(scaled.spec.maxReplicaCount * (Number.parseInt(deployment.spec.strategy.rollingUpdate.maxSurge, 10) / 100));
    const need = { pods: 0, 'requests.cpu': 0, 'requests.memory': 0, 'limits.cpu': 0, 'limits.memory': 0 } as Record<string, number>;
    const add = (count: number, resources: any) => {
      need.pods! += count;
      for (const kind of ['requests', 'limits']) for (const resource of ['cpu', 'memory']) need[`${kind}.${resource}`]! += count * quantity(resources[kind][resource]);
    };
    add(scaled.spec.maxReplicaCount + surge, deployment.spec.template.spec.containers[0].resources);
    for (const job of objects.filter((object) => object.kind === 'Job')) add(1, job.spec.template.spec.containers[0].resources);
    const galera = kustomize('argocd/database/production').find((object) => object.kind === 'MariaDB') as K8sObject;
    add(galera.spec.replicas, galera.spec.resources);
    const quota = kustomize('k8s').find((object) => object.kind === 'ResourceQuota' && object.metadata.namespace === 'records') as K8sObject;
    for (const [key, value] of Object.entries(need)) expect(quantity(quota.spec.hard[key]), key).to.be.at.least(value);
  });

  for (const environment of ENVIRONMENTS) {
    it(`installs the service with kubectl apply -k k8s/overlays/${environment}, generated from the chart without drift`, async function () {
      expect(readFileSync(`k8s/overlays/${environment}/records.yaml`, 'utf8'), 'run make k8s-manifests').to.equal(renderOverlay(environment));
      const objects = kustomize(`k8s/overlays/${environment}`);
      // The MariaDB (argocd/database) has no schema here: the cluster suite dry-runs it on the API server.
      expect(await validateAll(objects.filter((object) => object.kind !== 'MariaDB'))).to.deep.equal([]);
      expect(objects.some((object) => object.kind === 'Deployment' && object.metadata.namespace === 'records')).to.equal(true);
      expect(objects.some((object) => object.metadata.annotations?.['helm.sh/hook'] === 'test')).to.equal(false);
    });
  }
});

describe('scripts/e2e-kind (the cluster test for machines with Docker)', function () {
  it('passes shellcheck, as do the other shell scripts', function () {
    // Every shell script: those with a bash shebang, the sourced library, CI's entry point.
    const shebang = (path: string) => statSync(path).isFile() && readFileSync(path, 'utf8').startsWith('#!/usr/bin/env bash');
    const scripts = [...readdirSync('scripts').map((file) => `scripts/${file}`).filter(shebang), 'scripts/lib.sh', '.ci/run'];
    expect(scripts).to.include.members(['scripts/e2e-kind', 'scripts/argocd', 'scripts/with-argocd', 'scripts/cluster']);
    const result = spawnSync('shellcheck', ['-x', ...scripts], { encoding: 'utf8' });
    expect(result.status, result.stdout + result.stderr).to.equal(0);
  });

  it('gives Kong values the pinned chart renders on kind: no one-replica PDB, a NodePort the host reaches', function () {
    const merged = { ...parse(readFileSync('kong/values.yaml', 'utf8')), ...parse(readFileSync('k8s/kind/kong-values.yaml', 'utf8')) };
    const base = parse(readFileSync('kong/values.yaml', 'utf8'));
    const kind = parse(readFileSync('k8s/kind/kong-values.yaml', 'utf8'));
    const proxy = { ...base.proxy, ...kind.proxy };
    // Kong 2.48.0: "Enabling PodDisruptionBudget with replicaCount: 1 and no autoscaling prevents pod restarts".
    if (merged.replicaCount === 1 && merged.autoscaling?.enabled === false) expect(merged.podDisruptionBudget?.enabled).to.equal(false);
    // The host reaches the control-plane node's port, where no Kong pod runs.
    expect(proxy.type).to.equal('NodePort');
    expect(proxy.externalTrafficPolicy).to.equal('Cluster');
    const cluster = parse(readFileSync('k8s/kind/cluster.yaml', 'utf8'));
    expect(cluster.nodes[0].extraPortMappings[0].containerPort).to.equal(proxy.tls.nodePort);
  });

  it('uses the chart versions argocd/ pins and the files it ships', function () {
    const script = readFileSync('scripts/e2e-kind', 'utf8');
    for (const file of ['k8s/kind/cluster.yaml', 'k8s/kind/kong-values.yaml', 'kong/values.yaml', 'argocd/apps/values.yaml']) {
      expect(existsSync(file), file).to.equal(true);
      expect(script).to.contain(file);
    }
  });
});
