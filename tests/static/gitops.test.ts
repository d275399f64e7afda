import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { ENVIRONMENTS } from '../../tooling/environments.js';
import { chartPolicyViolations } from '../support/chart-policy.js';
import { isBuiltIn, validateAll } from '../support/k8s-schema.js';
import { groupOf } from '../support/argocd-projects.js';
import { argocdManifests, deployedBy, sourcesOf } from '../support/argocd-apps.js';
import { helmTemplate, parseObjects, renderApps, toolPath, type K8sObject } from '../support/tools.js';

const REPO = 'https://github.com/records/records.git';

describe('GitOps: argocd/', function () {
  this.timeout(60_000);

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

      it('syncs automatically with prune, self-heal, retries without end and server-side apply, never creating namespaces itself', function () {
        for (const candidate of apps) {
          const policy = candidate.spec.syncPolicy;
          expect(policy.automated, candidate.metadata.name).to.deep.equal({ prune: true, selfHeal: true });
          // Negative: without end (a limit of 5 gave up after about 5 minutes, for good on a pinned tag).
          expect(policy.retry.limit, candidate.metadata.name).to.be.lessThan(0);
          // ...each on the latest commit: retrying the failed one without end never reached its fix.
          expect(policy.retry.refresh, candidate.metadata.name).to.equal(true);
          expect(policy.retry.backoff).to.include.keys('duration', 'factor', 'maxDuration');
          expect(policy.syncOptions).to.include.members(['ServerSideApply=true', 'RespectIgnoreDifferences=true']);
          // Namespaces come from k8s/, where they are never pruned or deleted.
          expect(policy.syncOptions).not.to.include('CreateNamespace=true');
        }
      });

      it('has its root Application retry without end on the latest commit too (a limit of 5 stalled production on its tag once a child stayed Degraded)', function () {
        const root = argocdManifests().find((object) => object.kind === 'Application' && object.metadata.name.endsWith(environment)) as K8sObject;
        expect(root, `the root of ${environment}`).to.not.equal(undefined);
        expect(root.spec.syncPolicy.retry.limit).to.be.lessThan(0);
        expect(root.spec.syncPolicy.retry.refresh).to.equal(true);
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

      it('starts KEDA\'s webhook asking the API server on a cache miss (its cache may not hold the Deployment created a moment before, and it refused the ScaledObject)', function () {
        const [chart] = sourcesOf(app('keda')).filter((source) => source.chart);
        expect(chart.helm?.valueFiles).to.deep.equal(['$values/argocd/values/keda/values.yaml']);
        const webhooks = deployedBy(app('keda'), environment).find((object) => object.kind === 'Deployment' && object.metadata.name === 'keda-admission-webhooks');
        expect(webhooks?.spec.template.spec.containers[0].args).to.include('--cache-miss-to-direct-client=true');
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

      it('refuses a mirror without a revision to pin (it tracked HEAD, whatever was pushed last)', function () {
        const mirror = { repoURL: 'https://git.example.org/mirrors.git', path: 'keda-2.20.2' };
        const result = spawnSync(toolPath('helm'), ['template', 'apps', 'argocd/apps', '-f', `argocd/apps/values-${environment}.yaml`, '--set-json', `charts.keda.mirror=${JSON.stringify(mirror)}`], { encoding: 'utf8' });
        expect(result.status, result.stdout).to.not.equal(0);
        expect(result.stderr).to.contain('charts.keda.mirror.targetRevision');
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
