import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../../service/src/api/config.js';
import { loadIssuers } from '../../service/src/api/trusted-issuers.js';
import { chartPolicyViolations } from '../support/chart-policy.js';
import { find } from '../support/chart-objects.js';
import { validateAll } from '../support/k8s-schema.js';
import { helmTemplate, parseObjects, run, type K8sObject } from '../support/tools.js';

const CI_VALUES = readdirSync('charts/records/ci').map((file) => `charts/records/ci/${file}`);
const VARIANTS: Array<{ name: string; files: string[]; external: string[] }> = [
  { name: 'the default values', files: [], external: [] },
  ...CI_VALUES.map((file) => ({ name: file, files: [file], external: file.includes('production') ? ['records-production'] : [] })),
];

describe('Helm chart charts/records', function () {
  this.timeout(60_000);

  for (const variant of VARIANTS) {
    describe(`rendered with ${variant.name}`, function () {
      let objects: K8sObject[];
      before(() => {
        objects = helmTemplate(variant.files);
      });

      it('passes helm lint --strict', function () {
        const result = run('helm', ['lint', '--strict', 'charts/records', ...variant.files.flatMap((file) => ['-f', file])]);
        expect(result.status, result.stdout + result.stderr).to.equal(0);
      });

      it('validates against the Kubernetes, KEDA and Prometheus Operator schemas, with no unknown fields in built-in kinds (the cluster suite\'s strict dry run checks the others)', async function () {
        expect(objects.length).to.be.greaterThan(5);
        expect(await validateAll(objects)).to.deep.equal([]);
      });

      it('passes the policy checks', function () {
        expect(chartPolicyViolations(objects, variant.external)).to.deep.equal([]);
      });

      it('opens egress only to named destinations: every rule but the API server says where it may go (DNS too)', function () {
        const only = (rule: { ports?: Array<{ port: number | string }> }, ports: number[]) => (rule.ports ?? []).length > 0 && (rule.ports ?? []).every((port) => ports.includes(Number(port.port)));
        for (const policy of objects.filter((object) => object.kind === 'NetworkPolicy')) {
          for (const rule of (policy.spec.egress ?? []) as Array<{ to?: unknown[]; ports?: Array<{ port: number | string }> }>) {
            // The API server's address differs per cluster: apiServerPeers pins it where it is known.
            if (policy.metadata.name === 'records-init-secret' && only(rule, [443, 6443])) continue;
            expect((rule.to ?? []).length, `${policy.metadata.name}: egress on ${JSON.stringify(rule.ports)} to any address`).to.be.above(0);
          }
        }
      });

      it('labels every object with the app.kubernetes.io set', function () {
        for (const object of objects) {
          expect(object.metadata.labels, `${object.kind}/${object.metadata.name}`).to.include.keys(
            'app.kubernetes.io/name',
            'app.kubernetes.io/instance',
            'app.kubernetes.io/managed-by',
            'helm.sh/chart',
          );
        }
      });
    });
  }

  it('passes the policy checks with a ServiceMonitor beside the bundled MariaDB: it selects the service\'s Service alone', function () {
    // It selected the database's Service too, which shares the release's selector labels.
    const objects = helmTemplate([], ['serviceMonitor.enabled=true']);
    expect(chartPolicyViolations(objects)).to.deep.equal([]);
    // The check itself: the selector as it was finds the database's Service, which has no http port.
    delete (find(objects, 'ServiceMonitor')[0] as K8sObject).spec.selector.matchLabels['app.kubernetes.io/component'];
    expect(chartPolicyViolations(objects)).to.deep.equal(['ServiceMonitor/records: selects Service/records-mariadb, which has no port http']);
  });

  it('has policy checks that catch what they look for', function () {
    const objects = helmTemplate(['charts/records/ci/keda-off-values.yaml']);
    const deployment = find(objects, 'Deployment')[0] as K8sObject;
    const container = deployment.spec.template.spec.containers[0];
    deployment.spec.replicas = 2;
    delete container.resources.limits;
    container.securityContext.readOnlyRootFilesystem = false;
    container.readinessProbe = container.livenessProbe;
    container.image = 'ghcr.io/records/records:latest';
    deployment.spec.template.spec.terminationGracePeriodSeconds = 10;
    const service = find(objects, 'Service')[0] as K8sObject;
    service.spec.selector = { app: 'other' };
    const mutated = objects.filter((o) => o.kind !== 'PodDisruptionBudget');
    const found = chartPolicyViolations(mutated).join('\n');
    for (const expected of [
      'replicas set while an autoscaler owns it',
      'resources.limits.cpu missing',
      'readOnlyRootFilesystem must be true',
      'liveness and readiness probes are identical',
      'image tag latest',
      'terminationGracePeriodSeconds 10 must exceed drain + shutdown timeout (25)',
      'no PodDisruptionBudget selects the pods',
      'Service/records: selector matches no pods',
    ]) {
      expect(found).to.contain(expected);
    }
  });

  describe('with no values at all', function () {
    let objects: K8sObject[];
    before(() => {
      objects = helmTemplate();
    });
    const named = (kind: string, name: string) => objects.find((object) => object.kind === kind && object.metadata.name === name) as K8sObject;
    const env = (container: any) => Object.fromEntries((container.env ?? []).map((variable: any) => [variable.name, variable.value ?? variable.valueFrom]));

    it('gives every replica one database, the bundled MariaDB on a persistent volume', function () {
      const deployment = named('Deployment', 'records');
      const variables = env(deployment.spec.template.spec.containers[0]);
      expect(variables.DATABASE_URL).to.equal('mysql://records@records-mariadb:3306/records');
      expect(variables.DATABASE_PASSWORD).to.deep.equal({ secretKeyRef: { name: 'records-generated', key: 'mariadb-password' } });
      expect(named('ConfigMap', 'records').data).not.to.have.property('DATABASE_URL');
      const database = named('StatefulSet', 'records-mariadb');
      expect(database.spec.replicas).to.equal(1);
      expect(database.spec.template.spec.containers[0].image).to.match(/^docker\.io\/library\/mariadb:\d+\.\d+\.\d+$/);
      expect(database.spec.volumeClaimTemplates.map((claim: any) => claim.spec.accessModes)).to.deep.equal([['ReadWriteOnce']]);
      expect(database.spec.persistentVolumeClaimRetentionPolicy).to.deep.equal({ whenDeleted: 'Retain', whenScaled: 'Retain' });
      expect(named('Service', 'records-mariadb').spec.selector).to.deep.equal(database.spec.selector.matchLabels);
      expect(named('NetworkPolicy', 'records-mariadb').spec.podSelector.matchLabels).to.deep.equal(database.spec.selector.matchLabels);
    });

    it('keeps nothing that holds records in a pod: no SQLite path, no per-pod volume but /tmp', function () {
      for (const workload of [...find(objects, 'Deployment'), ...find(objects, 'Job')]) {
        const container = workload.spec.template.spec.containers[0];
        const url = env(container).DATABASE_URL;
        if (url !== undefined && typeof url === 'string') expect(url, workload.metadata.name).to.match(/^mysql:\/\//);
        const writable = (workload.spec.template.spec.volumes ?? []).filter((volume: any) => volume.emptyDir || volume.persistentVolumeClaim);
        expect(writable.map((volume: any) => volume.name), workload.metadata.name).to.deep.equal(['tmp']);
      }
    });

    it('runs migrations on first install before any pod serves: after MariaDB, before the Deployment', function () {
      const [job] = find(objects, 'Job').filter((candidate) => candidate.spec.template.spec.containers[0].args[0] === 'migrate');
      // A pre-install hook would run before the release's MariaDB exists; for Helm this Job is a
      // release object named after the release revision (helm template renders revision 1), so
      // every upgrade runs a new one, ordered by readiness (helm --wait): the cluster suite upgrades
      // on the real node, after a Job that failed too. For Argo CD it is a Sync hook in its wave,
      // made anew by every sync (the project's reading of Argo CD's sync code, docs/operations.md).
      expect(job?.metadata.annotations).not.to.have.property('helm.sh/hook');
      expect(job?.metadata.annotations).to.include({ 'argocd.argoproj.io/hook': 'Sync', 'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation' });
      expect(job?.metadata.name).to.equal('records-migrate-1');
      expect(job?.spec.template.spec.containers[0].args).to.deep.equal(['migrate', '--wait', '300']);
      const wave = (object: K8sObject | undefined) => Number(object?.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? 0);
      expect(wave(named('StatefulSet', 'records-mariadb'))).to.be.below(wave(job));
      expect(wave(job)).to.be.below(wave(named('Deployment', 'records')));
      // What scales the Deployment comes in its wave, not before: KEDA's admission webhook refuses a
      // ScaledObject whose target does not exist yet (a CPU trigger reads its containers), and an
      // HPA without its target reports FailedGetScale, which Argo CD counts as a failed wave.
      const scalers = [...find(objects, 'ScaledObject'), ...find(helmTemplate([], [], 'records', 'records', []), 'HorizontalPodAutoscaler')];
      expect(scalers.map((scaler) => scaler.kind)).to.deep.equal(['ScaledObject', 'HorizontalPodAutoscaler']);
      for (const scaler of scalers) expect(wave(scaler), scaler.kind).to.equal(wave(named('Deployment', 'records')));
      expect(named('Deployment', 'records').spec.template.spec.containers[0].readinessProbe.httpGet.path).to.equal('/readyz');
    });

    it('generates the passwords and the signing key once, in the cluster, before anything else', function () {
      const job = named('Job', 'records-init-secret');
      expect(job.metadata.annotations).to.include({ 'helm.sh/hook': 'pre-install,pre-upgrade', 'helm.sh/hook-weight': '-20' });
      expect(job.spec.template.spec.containers[0].args).to.deep.equal(['init-secret', '--name', 'records-generated', '--keys', 'mariadb-password,mariadb-root-password,signing-key.pem']);
      const role = named('Role', 'records-init-secret');
      expect(role.rules).to.deep.equal([
        { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
        { apiGroups: [''], resources: ['secrets'], resourceNames: ['records-generated'], verbs: ['get', 'patch'] },
      ]);
      for (const object of objects.filter((candidate) => candidate.metadata.name === 'records-init-secret')) {
        expect(object.metadata.annotations?.['helm.sh/hook-delete-policy'], object.kind).to.equal('before-hook-creation,hook-succeeded');
      }
    });

    it("hands the write path's settings to the service, which accepts what the schema allows", function () {
      // The service's own config parser reads the rendered ConfigMap, with the issuers file it mounts.
      const configOf = (sets: string[], values: object = {}) => {
        const directory = mkdtempSync(join(tmpdir(), 'records-chart-'));
        try {
          writeFileSync(join(directory, 'values.json'), JSON.stringify(values));
          const rendered = helmTemplate([join(directory, 'values.json')], sets);
          const data = (name: string) => (rendered.find((object) => object.kind === 'ConfigMap' && object.metadata.name === name) as K8sObject).data;
          writeFileSync(join(directory, 'issuers.json'), data('records-files')['issuers.json']);
          return loadConfig({ ...data('records'), AUTH_ISSUERS_FILE: join(directory, 'issuers.json') });
        } finally {
          rmSync(directory, { recursive: true, force: true });
        }
      };
      expect(configOf([])).to.include({ writeWorkers: 1, bulkConcurrency: 2 });
      expect(configOf(['config.writeWorkers=0', 'config.bulkConcurrency=64'])).to.include({ writeWorkers: 0, bulkConcurrency: 64 });
      expect(configOf(['config.writeWorkers=16', 'config.bulkConcurrency=1'])).to.include({ writeWorkers: 16, bulkConcurrency: 1 });
      // Body limits: what renders, the service reads as the same size; what it would refuse, helm refuses.
      const bodyLimitOf = (limit: string) => configOf([], { config: { bodyLimit: limit } }).bodyLimit;
      for (const [limit, size] of [['10MiB', 10 * 1024 ** 2], ['10MIB', 10 * 1024 ** 2], ['512 kb', 512_000], ['1.5mib', 1.5 * 1024 ** 2], ['0.001kb', 1], ['1', 1], ['9007199254740991', 2 ** 53 - 1]] as const) {
        expect(bodyLimitOf(limit), limit).to.equal(size);
      }
      // A plain number, as values.yaml's description shows it, from a values file (a float to Helm) and from --set (helm refused both).
      expect(configOf([], { config: { bodyLimit: 10485760 } }).bodyLimit).to.equal(10485760);
      expect(configOf(['config.bodyLimit=2048']).bodyLimit).to.equal(2048);
      for (const bad of [['config.bodyLimit=0'], ['config.bodyLimit=-5']]) expect(() => configOf(bad), bad[0]).to.throw(/bodyLimit/);
      for (const limit of ['0', '0b', '0.5', '0.0001kb', '9007199254740992', '99999999999999999999', '10xb']) {
        const result = run('helm', ['template', 'records', 'charts/records', '--set-string', `config.bodyLimit=${limit}`]);
        expect(result.status, limit).not.to.equal(0);
        expect(result.stderr, limit).to.match(/bodyLimit/);
      }
      // Outside the service's bounds, helm refuses the values before anything reaches a cluster.
      for (const set of ['config.writeWorkers=17', 'config.writeWorkers=-1', 'config.bulkConcurrency=0', 'config.bulkConcurrency=65', 'config.writeWorkers=1.5']) {
        const result = run('helm', ['template', 'records', 'charts/records', '--set', set]);
        expect(result.status, set).not.to.equal(0);
        expect(result.stderr, set).to.match(/writeWorkers|bulkConcurrency/);
      }
    });

    it('requires tokens and trusts its own issuer, so the pods start and a minted token works', function () {
      const config = named('ConfigMap', 'records').data;
      expect(config).to.include({ AUTH_MODE: 'required', SERVICE_NAME: 'records', SERVICE_ISSUER: 'http://records.records.svc.cluster.local:8000' });
      expect(JSON.parse(named('ConfigMap', 'records-files').data['issuers.json'])).to.deep.equal([]);
      const pod = named('Deployment', 'records').spec.template.spec;
      expect(env(pod.containers[0]).SERVICE_KEY_FILE).to.equal('/var/run/secrets/records/signing-key.pem');
      const key = pod.volumes.find((volume: any) => volume.name === 'signing-key');
      expect(key.secret).to.include({ secretName: 'records-generated', optional: false });
      const notes = run('helm', ['install', 'records', 'charts/records', '--dry-run=client', '-n', 'records']).stdout;
      expect(notes).to.contain('node service/dist/main.js token --aud records --scope "records:read records:write"');
      expect(notes).to.contain('curl -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:8000/v1/?limit=10"');
    });

    it('tells how to call through Kong at the environment\'s host, and that another release needs Kong\'s url changed (NOTES curled the load balancer\'s IP, which no route matches)', function () {
      const issuers = '[{"issuer":"https://id.example.org/","jwksUri":"https://id.example.org/jwks","audience":"records"}]';
      const notesOf = (release: string, namespace: string) => {
        const result = run('helm', ['install', release, 'charts/records', '--dry-run=client', '-n', namespace, '--set-json', `config.auth.issuers=${issuers}`]);
        expect(result.status, result.stderr).to.equal(0);
        return result.stdout.slice(result.stdout.indexOf('NOTES:'));
      };
      const notes = notesOf('records', 'records');
      expect(notes).to.contain('curl --connect-to "$HOST:443:$KONG:443" -H "Authorization: Bearer $TOKEN" "https://$HOST/v1/?limit=10"');
      expect(notes, 'an IP or, as on EKS, a host name').to.contain("{.status.loadBalancer.ingress[0].ip}{.status.loadBalancer.ingress[0].hostname}");
      expect(notes).not.to.contain('https://$KONG');
      expect(notes).not.to.contain('set that url in');
      expect(notesOf('other', 'apps')).to.contain('This release is http://other-records.apps.svc.cluster.local:8000: set that url in');
    });

    it('refuses to render without any database rather than give each pod its own', function () {
      expect(() => helmTemplate([], ['mariadb.enabled=false'])).to.throw(/no database: set database.url, existingSecret, or mariadb.enabled=true/);
    });

    it('opens egress to Redis and to issuers\' key sets only when the values name them', function () {
      const egressPorts = (sets: string[], json: string[] = []) => {
        const args = ['template', 'records', 'charts/records', ...sets.flatMap((set) => ['--set', set]), ...json.flatMap((set) => ['--set-json', set])];
        const result = run('helm', args);
        expect(result.status, result.stderr).to.equal(0);
        const policy = find(parseObjects(result.stdout), 'NetworkPolicy').find((candidate) => candidate.metadata.name === 'records');
        return (policy?.spec.egress as Array<{ ports?: Array<{ port: number }> }>).flatMap((rule) => (rule.ports ?? []).map((port) => Number(port.port)));
      };
      expect(egressPorts([])).to.deep.equal([53, 53, 3306]);
      expect(egressPorts(['redis.url=redis://valkey.data:6379'])).to.include(6379).and.not.to.include(443);
      expect(egressPorts([], ['config.auth.issuers=[{"issuer":"https://id.example.org/","jwksUri":"https://id.example.org/jwks","audience":"records"}]'])).to.include(443).and.not.to.include(6379);
    });

    it('names every object apart, within Kubernetes\' limits, for release names up to Helm\'s 53 characters (a long one collided, and its MariaDB got no pod)', function () {
      for (const release of ['records', 'customer-portal-analytics-sandbox-eu1', 'x'.repeat(45), 'y'.repeat(46), 'z'.repeat(53), `${'r'.repeat(40)}-records`]) {
        const objects = helmTemplate([], [], release);
        const names = objects.map((object) => `${object.kind}/${object.metadata.name}`);
        // The generated Secret keeps the name it always had (a new one would mean a new signing key
        // and passwords), unless that name was the fullname itself.
        const fullname = release.includes('records') ? release : `${release}-records`;
        const kept = `${fullname}-generated`.slice(0, 63).replace(/-$/, '');
        const hook = objects.find((object) => object.kind === 'Job' && object.metadata.name.endsWith('init-secret'));
        const args: string[] = hook?.spec.template.spec.containers[0].args ?? [];
        expect(args[args.indexOf('--name') + 1], release).to.equal(kept === fullname ? `${fullname.slice(0, 53)}-generated` : kept);
        expect(names.filter((name, index) => names.indexOf(name) !== index), release).to.deep.equal([]);
        for (const object of objects) {
          // A StatefulSet's pods carry `<name>-<revision hash>` in a label (63); a Job's name is a label of its pods, a Service's a DNS label.
          const limit = object.kind === 'StatefulSet' ? 52 : ['Job', 'Service'].includes(object.kind) ? 63 : 253;
          expect(object.metadata.name.length, `${release}: ${object.kind}/${object.metadata.name}`).to.be.at.most(limit);
        }
      }
    });

    it('serves service.port on the Service alone: the container listens on 8000 whatever it is (port 80 would need a privilege the pod drops)', function () {
      const objects = helmTemplate([], ['service.port=80']);
      const container = find(objects, 'Deployment')[0]?.spec.template.spec.containers[0];
      expect(container.ports).to.deep.equal([{ name: 'http', containerPort: 8000, protocol: 'TCP' }]);
      expect(find(objects, 'ConfigMap').find((candidate) => candidate.metadata.name === 'records')?.data.PORT).to.equal('8000');
      const service = find(objects, 'Service').find((candidate) => candidate.metadata.name === 'records');
      expect(service?.spec.ports).to.deep.equal([{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
      // Policies and scrape annotations see pod addresses, after the Service's translation: the container's port.
      const testPolicy = find(objects, 'NetworkPolicy').find((candidate) => candidate.metadata.name === 'records-test');
      expect(testPolicy?.spec.egress.flatMap((rule: any) => (rule.ports ?? []).map((port: any) => port.port))).to.include(8000).and.not.to.include(80);
      expect(find(helmTemplate([], ['service.port=80', 'metrics.scrapeAnnotations=true']), 'Service').find((candidate) => candidate.metadata.name === 'records')?.metadata.annotations?.['prometheus.io/port']).to.equal('8000');
      // What the test pod and the issuer URL call is the Service: its port.
      expect(JSON.stringify(find(objects, 'Pod').find((candidate) => candidate.metadata.name === 'records-test'))).to.contain('http://records:80');
    });

    it('keeps every label value within 63 characters for the longest nameOverride the schema allows, and refuses a longer one', function () {
      // Label values are the name plus a suffix (`-init-secret` is the longest): a nameOverride of
      // 63 characters rendered, and the API server refused the pods and selectors it labelled.
      const labelValues = (node: unknown, inLabels = false): string[] => {
        if (typeof node === 'string') return inLabels ? [node] : [];
        if (typeof node !== 'object' || node === null) return [];
        return Object.entries(node).flatMap(([key, value]) => labelValues(value, !Array.isArray(node) && (key === 'labels' || key === 'matchLabels')));
      };
      const longest = 'n'.repeat(51);
      for (const values of [[], ['charts/records/ci/keda-off-values.yaml']]) {
        const long = labelValues(helmTemplate(values, [`nameOverride=${longest}`])).filter((value) => value.length > 63);
        expect(long, values.join()).to.deep.equal([]);
      }
      expect(() => helmTemplate([], [`nameOverride=${longest}n`])).to.throw(/nameOverride/);
    });

    it('caches only in Redis when more than one pod may run (each pod\'s own cache served 404s and searches from before the other pods\' writes)', function () {
      const cacheOf = (sets: string[]) => helmTemplate([], sets).find((object) => object.kind === 'ConfigMap' && object.metadata.name === 'records')?.data.CACHE;
      expect(cacheOf([])).to.equal('off');
      expect(cacheOf(['autoscaling.keda.enabled=false', 'autoscaling.hpa.enabled=true'])).to.equal('off');
      expect(cacheOf(['autoscaling.keda.enabled=false', 'replicaCount=3'])).to.equal('off');
      expect(cacheOf(['autoscaling.keda.enabled=false', 'replicaCount=1']), 'one pod: its own cache is the only one').to.equal(undefined);
      expect(cacheOf(['redis.url=redis://valkey.data:6379']), 'Redis: shared by every pod').to.equal(undefined);
      expect(loadConfig({ DATABASE_URL: ':memory:', CACHE: 'off' }).cache.enabled).to.equal(false);
    });

    it('keeps each release\'s keys apart in a shared Redis (every release used records:, and served another\'s cached records)', function () {
      const prefixOf = (release: string, namespace: string) =>
        helmTemplate([], ['redis.url=redis://valkey.data:6379'], release, namespace).find((object) => object.kind === 'ConfigMap' && object.data?.REDIS_URL !== undefined)?.data.CACHE_KEY_PREFIX;
      const prefixes = [prefixOf('records', 'records'), prefixOf('records', 'staging'), prefixOf('reports', 'records')];
      expect(prefixes).to.deep.equal(['records:records/records:', 'records:staging/records:', 'records:records/reports-records:']);
      // Under records:, the only keys staging's Valkey ACL user may touch (argocd/values/valkey/staging.yaml).
      expect(prefixes.every((prefix) => prefix?.startsWith('records:'))).to.equal(true);
      expect(loadConfig({ DATABASE_URL: ':memory:', REDIS_URL: 'redis://valkey.data:6379', CACHE_KEY_PREFIX: prefixes[0] }).cache.keyPrefix).to.equal('records:records/records:');
      // The longest names Kubernetes and Helm allow: the service starts with the prefix they give (it refused one over 64 characters).
      const longest = helmTemplate([], ['redis.url=redis://valkey.data:6379', `fullnameOverride=${'f'.repeat(63)}`], 'r'.repeat(53), 'n'.repeat(63)).find((object) => object.kind === 'ConfigMap' && object.data?.REDIS_URL !== undefined)?.data.CACHE_KEY_PREFIX;
      expect(longest).to.equal(`records:${'n'.repeat(63)}/${'f'.repeat(63)}:`);
      expect(loadConfig({ DATABASE_URL: ':memory:', REDIS_URL: 'redis://valkey.data:6379', CACHE_KEY_PREFIX: longest }).cache.keyPrefix).to.equal(longest);
    });

    it('sends DNS only to the cluster\'s resolver, in every policy, unless networkPolicy.dnsPeers names another', function () {
      const dnsPeers = (json: string[] = []) => {
        const args = ['template', 'records', 'charts/records', ...json.flatMap((set) => ['--set-json', set])];
        const result = run('helm', args);
        expect(result.status, result.stderr).to.equal(0);
        const policies = find(parseObjects(result.stdout), 'NetworkPolicy').filter((policy) => policy.spec.policyTypes.includes('Egress') && policy.spec.egress.length > 0);
        expect(policies.map((policy) => policy.metadata.name)).to.have.members(['records', 'records-test', 'records-migrate', 'records-init-secret']);
        return policies.map((policy) => (policy.spec.egress as Array<{ to?: unknown; ports?: Array<{ port: number }> }>).find((rule) => rule.ports?.some((port) => port.port === 53))?.to ?? 'any address');
      };
      const kubeDns = [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }];
      expect(dnsPeers()).to.deep.equal(Array(4).fill(kubeDns));
      const nodeLocal = [{ ipBlock: { cidr: '169.254.20.10/32' } }];
      expect(dnsPeers([`networkPolicy.dnsPeers=${JSON.stringify(nodeLocal)}`])).to.deep.equal(Array(4).fill(nodeLocal));
      expect(dnsPeers(['networkPolicy.dnsPeers=[]'])).to.deep.equal(Array(4).fill('any address'));
    });

    it('lets the migrations Job reach the bundled MariaDB on its own port, whatever networkPolicy.databasePort says (that is for an external database)', function () {
      const policy = find(helmTemplate([], ['networkPolicy.databasePort=3307']), 'NetworkPolicy').find((candidate) => candidate.metadata.name === 'records-migrate');
      const ports = policy?.spec.egress.flatMap((rule: any) => (rule.ports ?? []).map((port: any) => port.port));
      expect(ports).to.include(3306).and.not.to.include(3307);
    });

    it('refuses values that would break on the cluster: a password in redis.url (it would sit in a ConfigMap) or without one, bounds upside down, a migration wait past its deadline, a key the service cannot read, an issuer listed twice, a rate window under four scrapes', function () {
      for (const [set, complaint] of [
        ['redis.url=redis://:secret@valkey:6379', /redis/],
        ['redis.url=redis://records:secret@valkey:6379', /redis/],
        ['redis.url=redis://valkey:6379/0?password=secret', /redis.url: no password/],
        ['autoscaling.keda.minReplicas=5,autoscaling.keda.maxReplicas=2', /minReplicas .* maxReplicas/],
        ['autoscaling.keda.enabled=false,autoscaling.hpa.enabled=true,autoscaling.hpa.minReplicas=5,autoscaling.hpa.maxReplicas=2', /minReplicas .* maxReplicas/],
        ['migrations.waitSeconds=600,migrations.activeDeadlineSeconds=600', /waitSeconds must be less than activeDeadlineSeconds/],
        // Not a Kubernetes quantity: the API server refused it at install, after the hooks had run.
        ['resources.limits.memory=100Mb', /resources.limits.memory/],
        ['mariadb.resources.requests.cpu=1.5.0', /mariadb.resources.requests.cpu/],
        // Each rendered, and the pods then crash-looped at start (or ignored the password).
        ['redis.password=secret', /redis.password and redis.passwordSecret need redis.url/],
        ['redis.passwordSecret.name=valkey-users', /redis.password and redis.passwordSecret need redis.url/],
        ['signingKey.pem=-----BEGIN OPENSSH PRIVATE KEY-----', /signingKey.pem/],
        ['signingKey.pem=-----BEGIN ENCRYPTED PRIVATE KEY-----', /signingKey.pem/],
        // Both rendered (scrapeInterval was read by nothing), and KEDA read the windows without a
        // rate as 0 requests.
        ['autoscaling.keda.prometheus.rateWindow=1m', /rateWindow \(1m\) must span at least 4 scrape intervals \(autoscaling.keda.prometheus.scrapeInterval: 30s\)/],
        ['serviceMonitor.enabled=true,serviceMonitor.interval=1m', /scrapeInterval \(30s\) must equal serviceMonitor.interval \(1m\)/],
      ] as const) {
        const result = run('helm', ['template', 'records', 'charts/records', '--api-versions', 'keda.sh/v1alpha1/ScaledObject', '--set', set]);
        expect(result.status, set).not.to.equal(0);
        expect(result.stderr, set).to.match(complaint);
      }
      const issuer = { issuer: 'https://idp.example.org/', jwksUri: 'https://idp.example.org/jwks', audience: 'records' };
      const twice = run('helm', ['template', 'records', 'charts/records', '--set-json', `config.auth.issuers=${JSON.stringify([issuer, issuer])}`]);
      expect(twice.status, 'an issuer listed twice').not.to.equal(0);
      expect(twice.stderr).to.contain('config.auth.issuers: https://idp.example.org/ is listed twice');
      // An issuer's keys over plain http only on loopback or from a cluster Service, as the service allows.
      for (const [jwksUri, renders] of [['http://idp.example.org/jwks', false], ['http://idp.svc.example.org/jwks', false], ['https://idp.example.org/jwks', true], ['http://reports.reports.svc.cluster.local:8000/.well-known/jwks.json', true], ['http://reports.reports.svc/jwks', true]] as const) {
        const issuers = JSON.stringify([{ issuer: 'https://idp.example.org/', jwksUri, audience: 'records' }]);
        const result = run('helm', ['template', 'records', 'charts/records', '--set-json', `config.auth.issuers=${issuers}`]);
        expect(result.status === 0, `${jwksUri}: ${result.stderr}`).to.equal(renders);
        if (!renders) expect(result.stderr).to.match(/jwksUri/);
        else expect(() => loadIssuers(issuers, undefined), jwksUri).not.to.throw();
      }
      // Durations compare by their length, whatever their unit.
      expect(() => helmTemplate([], ['serviceMonitor.enabled=true', 'serviceMonitor.interval=1m', 'autoscaling.keda.prometheus.scrapeInterval=60s', 'autoscaling.keda.prometheus.rateWindow=4m'])).not.to.throw();
      // Every form of a quantity Kubernetes reads renders.
      for (const quantity of ['512Mi', '1G', '0.5', '250m', '.5', '1e3', '1.5Gi']) {
        expect(() => helmTemplate([], [`resources.limits.memory=${quantity}`]), quantity).not.to.throw();
      }
      // A user name without a password stays allowed (a Valkey ACL user; the password comes from the Secret).
      for (const url of ['redis://records@valkey:6379', 'rediss://valkey.example.org:6380/2', 'redis://[fd00::1]:6379', 'redis://valkey:6379?db=1']) {
        expect(() => helmTemplate([], [`redis.url=${url}`]), url).not.to.throw();
      }
    });
  });
});
