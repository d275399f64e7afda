import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { ENVIRONMENTS, renderOverlay } from '../scripts/k8s-manifests.js';
import { chartPolicyViolations } from './support/chart-policy.js';
import { validateAll } from './support/k8s-schema.js';
import { helmTemplate, parseObjects, run, type K8sObject } from './support/tools.js';

const REPO = 'https://github.com/records/records.git';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return entry === 'templates' ? [] : yamlFiles(path);
    return /\.ya?ml$/.test(entry) ? [path] : [];
  });
}

/** Manifests among argocd/'s YAML (values files hold no apiVersion/kind). */
function argocdManifests(): K8sObject[] {
  return yamlFiles('argocd').flatMap((file) => parseObjects(readFileSync(file, 'utf8')).filter((object) => object.apiVersion && object.kind));
}

function renderApps(environment: string): K8sObject[] {
  const result = run('helm', ['template', 'apps', 'argocd/apps', '-f', `argocd/apps/values-${environment}.yaml`]);
  if (result.status !== 0) throw new Error(result.stderr);
  return parseObjects(result.stdout);
}

function kustomize(dir: string): K8sObject[] {
  const result = run('kubectl', ['kustomize', dir]);
  if (result.status !== 0) throw new Error(result.stderr);
  return parseObjects(result.stdout);
}

const sourcesOf = (app: K8sObject): any[] => app.spec.sources ?? [app.spec.source];

describe('GitOps: argocd/', function () {
  this.timeout(60_000);
  const project = argocdManifests().find((object) => object.kind === 'AppProject') as K8sObject;

  it('has manifests that validate against the Argo CD schemas', async function () {
    const manifests = argocdManifests();
    expect(manifests.map((object) => object.kind).sort()).to.deep.equal(['AppProject', 'Application', 'Application']);
    expect(await validateAll(manifests)).to.deep.equal([]);
  });

  it('limits the project to this repository, pinned chart repositories, the needed namespaces and a kind whitelist', function () {
    expect(project.spec.sourceRepos).to.include(REPO);
    expect(project.spec.sourceRepos).not.to.include('*');
    expect(project.spec.destinations.map((d: { namespace: string }) => d.namespace).sort()).to.deep.equal(['argocd', 'data', 'keda', 'kong', 'records']);
    expect(project.spec.clusterResourceWhitelist.length).to.be.greaterThan(0);
    expect(project.spec.clusterResourceWhitelist).not.to.deep.include({ group: '*', kind: '*' });
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

      it('has KEDA, Kong and records, with in-cluster data stores only outside production', function () {
        const names = apps.map((candidate) => candidate.metadata.name.replace(`-${environment}`, '')).sort();
        const expected = environment === 'production' ? ['cluster', 'keda', 'kong', 'records'] : ['cluster', 'keda', 'kong', 'mysql', 'records', 'redis'];
        expect(names).to.deep.equal(expected);
      });

      it('syncs the platform and data stores before the app', function () {
        expect(wave('cluster')).to.be.below(wave('keda'));
        expect(wave('keda')).to.be.below(wave('records'));
        expect(wave('kong')).to.be.below(wave('records'));
        if (environment !== 'production') for (const store of ['mysql', 'redis']) expect(wave(store)).to.be.below(wave('records'));
      });

      it('syncs automatically with prune, self-heal, retries, CreateNamespace and server-side apply', function () {
        for (const candidate of apps) {
          const policy = candidate.spec.syncPolicy;
          expect(policy.automated, candidate.metadata.name).to.deep.equal({ prune: true, selfHeal: true });
          expect(policy.retry.limit).to.be.greaterThan(0);
          expect(policy.retry.backoff).to.include.keys('duration', 'factor', 'maxDuration');
          expect(policy.syncOptions).to.include.members(['CreateNamespace=true', 'ServerSideApply=true', 'RespectIgnoreDifferences=true']);
          expect(candidate.spec.project).to.equal('records');
        }
      });

      it('ignores replica counts owned by autoscalers', function () {
        for (const name of ['records', 'kong']) {
          const pointers = app(name).spec.ignoreDifferences.flatMap((rule: { jsonPointers: string[] }) => rule.jsonPointers);
          expect(pointers, name).to.include('/spec/replicas');
        }
      });

      it('uses only sources and destinations the project allows', function () {
        const allowedNamespaces = project.spec.destinations.map((d: { namespace: string }) => d.namespace);
        for (const candidate of apps) {
          for (const source of sourcesOf(candidate)) expect(project.spec.sourceRepos, candidate.metadata.name).to.include(source.repoURL);
          if (candidate.spec.destination.namespace) expect(allowedNamespaces).to.include(candidate.spec.destination.namespace);
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

      it('renders the records chart with this environment\'s values, passing the chart\'s policy checks', async function () {
        const values = `argocd/values/records/${environment}.yaml`;
        const objects = helmTemplate([values]);
        const external = [parse(readFileSync(values, 'utf8')).existingSecret].filter(Boolean);
        expect(chartPolicyViolations(objects, external)).to.deep.equal([]);
        expect(await validateAll(objects)).to.deep.equal([]);
        if (environment === 'production') {
          expect(objects.find((object) => object.kind === 'ScaledObject')?.spec.minReplicaCount).to.be.at.least(2);
          expect(objects.filter((object) => object.kind === 'Secret')).to.deep.equal([]);
        }
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

describe('cluster manifests: k8s/', function () {
  this.timeout(60_000);

  it('renders with kubectl kustomize and validates, strictly, against the Kubernetes schemas', async function () {
    const objects = kustomize('k8s');
    expect(await validateAll(objects)).to.deep.equal([]);
    const namespaces = objects.filter((object) => object.kind === 'Namespace');
    const records = namespaces.find((object) => object.metadata.name === 'records');
    expect(records?.metadata.labels).to.include({ 'pod-security.kubernetes.io/enforce': 'restricted' });
    for (const namespace of namespaces) expect(namespace.metadata.labels, namespace.metadata.name).to.have.property('pod-security.kubernetes.io/enforce');
    const denyAll = objects.filter((object) => object.kind === 'NetworkPolicy' && object.metadata.name === 'default-deny');
    expect(denyAll.map((policy) => policy.metadata.namespace).sort()).to.deep.equal(['data', 'records']);
    for (const policy of denyAll) expect(policy.spec).to.deep.equal({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    expect(objects.filter((object) => object.kind === 'ResourceQuota').length).to.be.greaterThan(0);
    expect(objects.filter((object) => object.kind === 'LimitRange').length).to.be.greaterThan(0);
  });

  for (const environment of ENVIRONMENTS) {
    it(`installs the service with kubectl apply -k k8s/overlays/${environment}, generated from the chart without drift`, async function () {
      expect(readFileSync(`k8s/overlays/${environment}/records.yaml`, 'utf8'), 'run make k8s-manifests').to.equal(renderOverlay(environment));
      const objects = kustomize(`k8s/overlays/${environment}`);
      expect(await validateAll(objects)).to.deep.equal([]);
      expect(objects.some((object) => object.kind === 'Deployment' && object.metadata.namespace === 'records')).to.equal(true);
      expect(objects.some((object) => object.metadata.annotations?.['helm.sh/hook'] === 'test')).to.equal(false);
    });
  }
});

describe('scripts/e2e-kind (the cluster test for machines with Docker)', function () {
  it('passes shellcheck, as do the other shell scripts', function () {
    const scripts = ['scripts/e2e-kind', 'scripts/mariadb', 'scripts/redis', 'scripts/prometheus', 'scripts/with-test-servers', 'scripts/ensure-packages', 'scripts/image-smoke', 'scripts/dev', 'scripts/install-k8s-tools', 'scripts/lib.sh', '.ci/run'];
    const result = spawnSync('shellcheck', ['-x', ...scripts], { encoding: 'utf8' });
    expect(result.status, result.stdout + result.stderr).to.equal(0);
  });

  it('uses the chart versions argocd/ pins and the files it ships', function () {
    const script = readFileSync('scripts/e2e-kind', 'utf8');
    for (const file of ['k8s/kind/cluster.yaml', 'k8s/kind/kong-values.yaml', 'kong/values.yaml', 'argocd/apps/values.yaml']) {
      expect(existsSync(file), file).to.equal(true);
      expect(script).to.contain(file);
    }
  });
});
