import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { ENVIRONMENTS } from '../../tooling/environments.js';
import { expect } from 'chai';
import { helmTemplate, kongRender, kustomize, parseObjects, renderApps, throughTpl, upstreamDefaults, upstreamObjects, type K8sObject } from '../support/tools.js';
import { chartPin } from '../../tooling/upstream-mirror.js';
import { ensureGeneratedSecret } from '../../service/src/cluster/generated-secret.js';
import { missingPrerequisites } from '../../tooling/deploy-check.js';
import { operatorPod } from './mariadb-pods.js';
import { clusterIp, loopingClient, nodeIn, resolve as resolveName, standIn, tcpFrom, tcpFromBash, type LoopCounts } from './pods.js';
import { playMariadbOperator, provideValkey } from './stand-ins.js';
import { dryRun, helm, installCrds, kubectl, memoryBytes, must, objectsLeft, asKubectlInput, serviceAccountsReady, warningsIn } from './cluster.js';

/**
 * Installs on a real cluster (scripts/with-cluster: kube-apiserver, controller manager, scheduler
 * and etcd built from source, and a real node: containerd, runc, the kubelet, kube-proxy, CoreDNS,
 * kube-router enforcing NetworkPolicies). Admission is the API server's own, PodSecurity included;
 * pods run, probes decide readiness, Jobs run to completion. The one played part is
 * mariadb-operator (./stand-ins.ts).
 */

const upstream = upstreamObjects;

/** Kong's render with an environment's values; where the mirror has none, says so and checks what it can. */
function kongOf(environment: string): K8sObject[] {
  const kong = kongRender(environment);
  if (!kong.complete) console.log(`      kong (${environment}): ${kong.note}`);
  return kong.objects;
}

describe('a real control plane: installs the API server accepts', function () {
  this.timeout(600_000);
  let crds: string[] = [];

  before(function () {
    // The cluster basics go first, for real: namespaces (with their Pod Security labels), the
    // default-deny policies, quotas. Then the CRDs every object below needs.
    must(kubectl(['apply', '--server-side', '--field-manager', 'records-test', '-k', 'k8s']), 'applying k8s/');
    kubectl(['create', 'namespace', 'argocd']);
    serviceAccountsReady();
    crds = installCrds();
  });

  // The Argo CD suite runs next on this control plane and must find it as a new cluster is: it
  // syncs the CRDs and namespaces itself (an Application whose objects already exist has nothing
  // to sync, and its wave order cannot be observed).
  after(function () {
    if (crds.length > 0) must(kubectl(['delete', 'crd', ...crds, '--wait=true', '--timeout=180s', '--ignore-not-found']), 'removing the CRDs');
    must(kubectl(['delete', '-k', 'k8s', '--wait=true', '--timeout=300s', '--ignore-not-found']), 'removing k8s/');
    must(kubectl(['delete', 'namespace', 'argocd', '--wait=true', '--timeout=180s', '--ignore-not-found']), 'removing namespace argocd');
  });

  describe('every object the project ships passes a server-side dry run with strict field validation and no warning', function () {
    const sets: Array<[string, () => K8sObject[], string | undefined]> = [
      ['the chart with its defaults', () => helmTemplate(), 'records'],
      ...readdirSync('charts/records/ci').map((file): [string, () => K8sObject[], string] => [`the chart with ci/${file}`, () => helmTemplate([`charts/records/ci/${file}`]), 'records']),
      ['k8s/', () => kustomize('k8s'), undefined],
      ['k8s/overlays/staging', () => kustomize('k8s/overlays/staging'), undefined],
      ['k8s/overlays/production', () => kustomize('k8s/overlays/production'), undefined],
      ['argocd/projects.yaml and the roots', () => [...parseObjects(readFileSync('argocd/projects.yaml', 'utf8')), ...ENVIRONMENTS.flatMap((env) => parseObjects(readFileSync(`argocd/root/${env}.yaml`, 'utf8')))], 'argocd'],
      ['the staging Applications', () => renderApps('staging'), 'argocd'],
      ['the production Applications', () => renderApps('production'), 'argocd'],
      ['the staging database', () => kustomize('argocd/database/staging'), undefined],
      ['the production database', () => kustomize('argocd/database/production'), undefined],
      ['KEDA as it renders', () => upstreamDefaults('keda'), 'keda'],
      ...ENVIRONMENTS.map((environment): [string, () => K8sObject[], string] => [`Kong with ${environment}'s values, as the chart renders them`, () => kongOf(environment), 'kong']),
      ['mariadb-operator as it renders', () => upstreamDefaults('mariadbOperator'), 'mariadb-operator'],
      ['Valkey as it renders', () => upstreamDefaults('valkey'), 'data'],
      ['the Kong objects of kong/generated/production, through the chart\'s tpl pass', () => throughTpl(chartPin('kong').renders.production!), 'kong'],
      ['the Kong objects of kong/generated/staging, through the chart\'s tpl pass', () => throughTpl(chartPin('kong').renders.staging!), 'kong'],
    ];
    for (const [name, objects, namespace] of sets) {
      it(name, function () {
        const rendered = objects();
        expect(rendered.length).to.be.greaterThan(0);
        const { problems, warnings } = dryRun(rendered, namespace);
        expect(problems, 'refused').to.deep.equal([]);
        expect(warnings, 'warnings').to.deep.equal([]);
      });
    }
  });

  it('refuses Kong as kong/values.yaml rendered at b3e13de: container settings under the pod securityContext', function () {
    const { problems } = dryRun(upstream('kong-2.48.0/rendered-with-kong-values-b3e13de.yaml').filter((object) => object.kind === 'Deployment'), 'kong');
    // The API server names the first unknown field it meets, and its order varies from run to run
    // (a Go map): any of the three container-level settings misplaced in the pod's securityContext.
    expect(problems.join('\n'), problems.join('\n')).to.match(/\.spec\.template\.spec\.securityContext\.(allowPrivilegeEscalation|capabilities|readOnlyRootFilesystem): field not declared in schema/);
  });

  it('checks what the first sync needs (make deploy-check CLUSTER=1): names each missing prerequisite, passes once all are there', function () {
    const missing = missingPrerequisites('staging', 'kubectl');
    for (const name of ['argocd-cm', 'kong/kong-ratelimit-redis', 'data/valkey-users', 'records/valkey-users', 'letsencrypt-staging']) {
      expect(missing.some((line) => line.includes(name)), `${name} in ${missing.join('; ')}`).to.equal(true);
    }
    const made: string[][] = [];
    const make = (args: string[], undo: string[], input?: string) => {
      must(kubectl(args, input), args.join(' '));
      made.push(undo);
    };
    try {
      make(['create', 'secret', 'generic', '-n', 'kong', 'kong-ratelimit-redis', '--from-literal=password=k'], ['delete', 'secret', '-n', 'kong', 'kong-ratelimit-redis']);
      make(['create', 'secret', 'generic', '-n', 'data', 'valkey-users', '--from-literal=default=d', '--from-literal=records=r'], ['delete', 'secret', '-n', 'data', 'valkey-users']);
      make(['create', 'secret', 'generic', '-n', 'records', 'valkey-users', '--from-literal=records=r'], ['delete', 'secret', '-n', 'records', 'valkey-users']);
      const health = { 'resource.customizations.health.argoproj.io_Application': 'hs = {}\nhs.status = "Progressing"\nreturn hs\n' };
      make(['apply', '-f', '-'], ['delete', 'configmap', '-n', 'argocd', 'argocd-cm'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'argocd-cm', namespace: 'argocd' }, data: health }));
      make(['apply', '-f', '-'], ['delete', 'clusterissuer', 'letsencrypt-staging'], JSON.stringify({ apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', metadata: { name: 'letsencrypt-staging' }, spec: { selfSigned: {} } }));
      // Valkey's Secret lacks the kong user's password: still missing, and said so.
      expect(missingPrerequisites('staging', 'kubectl').join('; ')).to.contain('data/valkey-users');
      must(kubectl(['patch', 'secret', '-n', 'data', 'valkey-users', '-p', JSON.stringify({ stringData: { kong: 'k' } })]), 'adding the kong user');
      expect(missingPrerequisites('staging', 'kubectl')).to.deep.equal([]);
    } finally {
      for (const undo of made.reverse()) kubectl([...undo, '--ignore-not-found']);
    }
  });

  it('has real admission: a pod below the restricted profile is refused in the records namespace', function () {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'intruder', namespace: 'records' }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } };
    const result = kubectl(['apply', '--server-side', '--dry-run=server', '-f', '-'], asKubectlInput([pod as K8sObject]));
    expect(result.status).not.to.equal(0);
    expect(result.stderr).to.match(/violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false/);
    // The same pod in a namespace without a Pod Security level is admitted: the refusal is the profile's.
    expect(kubectl(['apply', '--server-side', '--dry-run=server', '-f', '-'], asKubectlInput([{ ...pod, metadata: { name: 'intruder', namespace: 'default' } } as K8sObject])).status).to.equal(0);
  });

  it('refuses a container over the records namespace\'s LimitRange maximum, and admits one at it', function () {
    const pod = (memory: string) => ({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'too-big', namespace: 'records' },
      spec: {
        securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [{ name: 'c', image: 'ghcr.io/records/records:0.1.0', resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '1', memory } },
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
      },
    }) as K8sObject;
    const over = kubectl(['apply', '--server-side', '--dry-run=server', '-f', '-'], asKubectlInput([pod('5Gi')]));
    expect(over.status).not.to.equal(0);
    expect(over.stderr).to.match(/maximum memory usage per Container is 4Gi, but limit is 5Gi/);
    expect(kubectl(['apply', '--server-side', '--dry-run=server', '-f', '-'], asKubectlInput([pod('4Gi')])).status).to.equal(0);
  });

  it('admits the pods mariadb-operator builds for each environment\'s MariaDB: restricted Pod Security and the LimitRange', function () {
    for (const environment of ENVIRONMENTS) {
      const mariadb = kustomize(`argocd/database/${environment}`).find((object) => object.kind === 'MariaDB')!;
      const { problems } = dryRun([operatorPod(mariadb)], 'records');
      expect(problems, environment).to.deep.equal([]);
    }
  });

  it('lets the init-secret hook, with the chart\'s own Role and a token of its ServiceAccount, create the Secret and add keys, and nothing more', async function () {
    const namespace = 'init-secret-test';
    kubectl(['create', 'namespace', namespace]);
    serviceAccountsReady();
    const rbac = helmTemplate([], [], 'records', namespace).filter((object) => object.metadata.name === 'records-init-secret' && object.kind !== 'Job' && object.kind !== 'NetworkPolicy');
    expect(rbac.map((object) => object.kind).sort()).to.deep.equal(['Role', 'RoleBinding', 'ServiceAccount']);
    must(kubectl(['apply', '--server-side', '--field-manager', 'records-test', '-n', namespace, '-f', '-'], asKubectlInput(rbac)), 'RBAC');
    const token = must(kubectl(['create', 'token', 'records-init-secret', '-n', namespace, '--duration', '10m']), 'token').trim();
    const server = must(kubectl(['config', 'view', '--raw', '-o', 'jsonpath={.clusters[0].cluster.server}']), 'server');
    const ca = readFileSync(must(kubectl(['config', 'view', '--raw', '-o', 'jsonpath={.clusters[0].cluster.certificate-authority}']), 'ca'));
    const api = { url: server, token, ca };
    expect(await ensureGeneratedSecret(api, { namespace, name: 'records-generated', keys: ['signing-key.pem', 'mariadb-password'] })).to.deep.equal({ created: true, added: ['signing-key.pem', 'mariadb-password'] });
    expect(await ensureGeneratedSecret(api, { namespace, name: 'records-generated', keys: ['signing-key.pem', 'mariadb-password', 'mariadb-root-password'] })).to.deep.equal({ created: false, added: ['mariadb-root-password'] });
    const keys = Object.keys(JSON.parse(must(kubectl(['get', 'secret', 'records-generated', '-n', namespace, '-o', 'json']), 'secret')).data).sort();
    expect(keys).to.deep.equal(['mariadb-password', 'mariadb-root-password', 'signing-key.pem']);
    // Nothing more: another Secret can be neither read nor changed with that token.
    must(kubectl(['create', 'secret', 'generic', 'someone-else', '-n', namespace, '--from-literal=k=v']), 'another Secret');
    let refused = '';
    await ensureGeneratedSecret(api, { namespace, name: 'someone-else', keys: ['mariadb-password'] }).catch((error: Error) => (refused = error.message));
    expect(refused).to.match(/reading Secret init-secret-test\/someone-else: HTTP 403/);
    must(kubectl(['delete', 'namespace', namespace, '--wait=false']), 'cleanup');
  });

  describe('helm install --wait of charts/records with no values, on the real node: serve, upgrade, rollback, test, uninstall', function () {
    const release = ['-n', 'records'];
    const configMap = () => JSON.parse(must(kubectl(['get', 'configmap', 'records', ...release, '-o', 'json']), 'configmap')).data;
    const template = () => JSON.parse(must(kubectl(['get', 'deployment', 'records', ...release, '-o', 'json']), 'deployment')).spec.template;
    // The token NOTES tell a user to mint, with the command they print.
    const token = () => must(kubectl(['exec', ...release, 'deploy/records', '--', 'node', 'service/dist/main.js', 'token', '--aud', 'records', '--scope', 'records:read records:write', '--ttl', '3600']), 'minting a token').trim();
    const base = 'http://records.records.svc.cluster.local:8000';
    let client = '';

    before(function () {
      // A client in Kong's namespace: the one the service's NetworkPolicy lets in for API traffic.
      client = 'records-client';
      standIn({ name: 'a client', namespace: 'kong', labels: { 'app.kubernetes.io/name': 'records-client' }, ports: {} }, client);
    });
    after(function () {
      kubectl(['delete', 'pod', '-n', 'kong', client, '--wait=false', '--ignore-not-found']);
    });

    it('installs: MariaDB runs, the hook pod generates the Secret, the migrations Job migrates, the pods turn Ready by their own probes', function () {
      const result = helm(['install', 'records', 'charts/records', ...release, '--wait', '--timeout', '5m']);
      expect(result.status, result.stderr).to.equal(0);
      expect(warningsIn(result.stderr), 'warnings').to.deep.equal([]);
      const deployment = JSON.parse(must(kubectl(['get', 'deployment', 'records', ...release, '-o', 'json']), 'deployment'));
      expect(deployment.status.conditions.find((c: any) => c.type === 'Available')?.status).to.equal('True');
      // KEDA's CRDs but no KEDA here: the Deployment keeps the one replica it starts with.
      expect(deployment.status.readyReplicas).to.equal(deployment.spec.replicas);
      const jobs = JSON.parse(must(kubectl(['get', 'jobs', ...release, '-o', 'json']), 'jobs')).items;
      const migrate = jobs.find((job: any) => job.metadata.name.startsWith('records-migrate-'));
      must(kubectl(['wait', '--for', 'condition=Complete', '--timeout', '120s', ...release, `job/${migrate?.metadata.name}`]), 'the migrations Job');
      expect(must(kubectl(['logs', ...release, `job/${migrate.metadata.name}`]), 'migration logs')).to.match(/"applied":\["0001_create_records".*"engine":"mysql","msg":"migrations applied"/);
      // The hook pod made the Secret (its keys), then went with its RBAC once it succeeded.
      const secret = JSON.parse(must(kubectl(['get', 'secret', 'records-generated', ...release, '-o', 'json']), 'the generated Secret'));
      expect(Object.keys(secret.data).sort()).to.deep.equal(['mariadb-password', 'mariadb-root-password', 'signing-key.pem']);
      expect(jobs.map((job: any) => job.metadata.name)).not.to.include('records-init-secret');
      expect(kubectl(['get', 'role', 'records-init-secret', ...release]).status).not.to.equal(0);
      expect(must(kubectl(['get', 'scaledobject', 'records', ...release, '-o', 'name']), 'ScaledObject').trim()).to.equal('scaledobject.keda.sh/records');
      expect(JSON.parse(must(kubectl(['get', 'statefulset', 'records-mariadb', ...release, '-o', 'json']), 'mariadb')).status.readyReplicas).to.equal(1);
      const pods = JSON.parse(must(kubectl(['get', 'pods', ...release, '-l', 'app.kubernetes.io/instance=records', '-o', 'json']), 'pods')).items;
      const running = pods.filter((pod: any) => pod.status.phase === 'Running');
      expect(running.length, 'the service and MariaDB').to.equal(deployment.spec.replicas + 1);
      expect(new Set(running.map((pod: any) => pod.spec.nodeName))).to.deep.equal(new Set(['records-node']));
    });

    it('runs the image as the Dockerfile built it: uid 10001, a read-only root, no npm and no dev dependency', function () {
      const script = `
        const fs = require('node:fs');
        const resolvable = (name) => { try { require.resolve(name, { paths: ['/app'] }); return true; } catch { return false; } };
        let writable = true;
        try { fs.writeFileSync('/app/probe', ''); } catch { writable = false; }
        console.log(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), npm: fs.existsSync('/usr/local/bin/npm'),
          typescript: resolvable('typescript'), mocha: resolvable('mocha'), koa: resolvable('koa'), rootWritable: writable }));`;
      expect(JSON.parse(must(nodeIn('records', 'deploy/records', script), 'inside the service container'))).to.deep.equal(
        { uid: 10001, gid: 10001, npm: false, typescript: false, mocha: false, koa: true, rootWritable: false });
    });

    it('serves a client pod through the Service with the token NOTES print: bulk load, search, get by id', function () {
      const script = `
        const [base, token] = process.argv.slice(-2);
        const headers = { authorization: 'Bearer ' + token, 'content-type': 'application/json' };
        (async () => {
          const bulk = await fetch(base + '/v1/bulk', { method: 'POST', headers, body: JSON.stringify({ items: [
            { title: 'Le confort de la maison', uri: 'https://example.org/confort/1', date: 'March 30 1985' },
            { title: 'Sans année', date: 'May 23' } ] }) });
          const stored = await bulk.json();
          const one = await fetch(base + '/v1/' + stored.ids[0], { headers });
          const search = await fetch(base + '/v1/?contains=CONFORT&limit=10', { headers });
          console.log(JSON.stringify({ bulk: bulk.status, stored, one: one.status, record: await one.json(), search: search.status, found: await search.json() }));
        })().catch((error) => { console.error(error); process.exit(1); });`;
      const answer = JSON.parse(must(nodeIn('kong', client, script, [base, token()]), 'the client'));
      expect(answer.bulk).to.equal(200);
      expect(answer.stored.inserted).to.equal(1);
      expect(answer.stored.rejected).to.have.length(1);
      expect(answer.one).to.equal(200);
      expect(answer.record).to.deep.include({ id: answer.stored.ids[0], title: 'Le confort de la maison', uri: 'https://example.org/confort/1' });
      expect(answer.search).to.equal(200);
      expect(JSON.stringify(answer.found)).to.contain('Le confort de la maison');
    });

    it('enforces its NetworkPolicies: every flow of docs/gitops.md tried from inside the pods, observed as expected', function () {
      const records = clusterIp('records', 'records');
      const mariadb = clusterIp('records', 'records-mariadb');
      const api = clusterIp('default', 'kubernetes');
      kubectl(['create', 'namespace', 'monitoring']);
      const [stranger, monitoring] = ['stranger', 'scraper'];
      standIn({ name: 'a pod of another team', namespace: 'default', labels: {}, ports: {} }, stranger);
      standIn({ name: 'a scraper', namespace: 'monitoring', labels: {}, ports: {} }, monitoring);
      try {
        const observed = {
          'kong -> records:8000': tcpFrom('kong', client, records, 8000),
          'monitoring -> records:8000 (metrics)': tcpFrom('monitoring', monitoring, records, 8000),
          'records -> MariaDB:3306': tcpFrom('records', 'deploy/records', mariadb, 3306),
          'records -> DNS': must(nodeIn('records', 'deploy/records', resolveName), 'DNS from records').trim(),
          'default -> records:8000': tcpFrom('default', stranger, records, 8000),
          'kong -> MariaDB:3306': tcpFrom('kong', client, mariadb, 3306),
          'records -> API server': tcpFrom('records', 'deploy/records', api, 443),
          'MariaDB -> records:8000': tcpFromBash('records', 'records-mariadb-0', records, 8000),
          'MariaDB -> API server': tcpFromBash('records', 'records-mariadb-0', api, 443),
        };
        expect(observed).to.deep.equal({
          'kong -> records:8000': 'open',
          'monitoring -> records:8000 (metrics)': 'open',
          'records -> MariaDB:3306': 'open',
          'records -> DNS': 'open',
          'default -> records:8000': 'denied',
          'kong -> MariaDB:3306': 'denied',
          'records -> API server': 'denied',
          'MariaDB -> records:8000': 'denied',
          'MariaDB -> API server': 'denied',
        });
      } finally {
        kubectl(['delete', 'pod', '-n', 'default', stranger, '--wait=false']);
        kubectl(['delete', 'pod', '-n', 'monitoring', monitoring, '--wait=false']);
      }
    });

    it('rolls the pods on a changed config value while a client loops reads, searches and writes, with no failed request; rolls back', async function () {
      const looping = loopingClient('kong', client, base, token(), ['get', 'search', 'bulk']);
      let counts: LoopCounts;
      try {
        const before = template().metadata.annotations['checksum/config'];
        must(helm(['upgrade', 'records', 'charts/records', ...release, '--set', 'config.logLevel=debug', '--wait', '--timeout', '5m']), 'helm upgrade');
        expect(template().metadata.annotations['checksum/config']).not.to.equal(before);
        expect(configMap().LOG_LEVEL).to.equal('debug');
        const replicaSets = JSON.parse(must(kubectl(['get', 'replicasets', ...release, '-l', 'app.kubernetes.io/name=records', '-o', 'json']), 'rs')).items;
        expect(replicaSets.filter((rs: any) => rs.status.replicas > 0), 'only the new ReplicaSet has pods').to.have.length(1);
        must(helm(['rollback', 'records', '1', ...release, '--wait', '--timeout', '5m']), 'helm rollback');
        expect(configMap().LOG_LEVEL).to.equal('info');
        expect(template().metadata.annotations['checksum/config']).to.equal(before);
      } finally {
        counts = await looping.stop();
      }
      expect(counts.failed, `${counts.ok} requests answered 200`).to.deep.equal([]);
      expect(counts.ok).to.be.greaterThan(30);
      const history = JSON.parse(must(helm(['history', 'records', ...release, '-o', 'json']), 'history'));
      expect(history.map((entry: any) => entry.revision)).to.deep.equal([1, 2, 3]);
    });

    it('passes helm test: its pod runs and checks the service', function () {
      const result = helm(['test', 'records', ...release, '--timeout', '3m', '--logs']);
      expect(result.status, result.stderr + result.stdout).to.equal(0);
      expect(result.stdout).to.match(/\/readyz 200[\s\S]*\/v1\/\?limit=1 401[\s\S]*\/v1\/\?limit=1 200/);
    });

    it('sizes the helm test pod by its measured peak: the rendered pod, run to its end, peaks below 2/3 of its limit', async function () {
      const rendered = helmTemplate().find((object) => object.kind === 'Pod' && object.metadata.name === 'records-test')!;
      // The same pod without its hook annotations, kept alive after its checks so that its
      // cgroup's peak (the node process and the token command it runs) can be read.
      const pod = structuredClone(rendered);
      pod.metadata = { name: 'records-test-measured', namespace: 'records', labels: rendered.metadata.labels };
      pod.spec.containers[0].args[0] += '\nsetTimeout(() => {}, 300000);\n';
      must(kubectl(['apply', '-f', '-'], asKubectlInput([pod])), 'the measured test pod');
      try {
        const deadline = Date.now() + 120_000;
        let logs = '';
        while (!/\/v1\/\?limit=1 200/.test(logs)) {
          if (Date.now() > deadline) throw new Error(`the measured test pod did not finish its checks:\n${logs}`);
          await new Promise((resolve) => setTimeout(resolve, 1000));
          logs = kubectl(['logs', '-n', 'records', 'records-test-measured']).stdout;
        }
        const peak = Number(must(kubectl(['exec', '-n', 'records', 'records-test-measured', '--', 'cat', '/sys/fs/cgroup/memory/memory.max_usage_in_bytes']), 'its peak').trim());
        const limit = memoryBytes(rendered.spec.containers[0].resources.limits.memory);
        console.log(`      helm test pod: peak ${Math.round(peak / 2 ** 20)} MiB of a ${rendered.spec.containers[0].resources.limits.memory} limit`);
        expect(peak).to.be.lessThan((limit * 2) / 3);
      } finally {
        kubectl(['delete', 'pod', '-n', 'records', 'records-test-measured', '--wait=false']);
      }
    });

    it('keeps every pod within its memory limit under that traffic (the kubelet\'s /stats/summary)', function () {
      const summary = JSON.parse(must(kubectl(['get', '--raw', '/api/v1/nodes/records-node/proxy/stats/summary']), 'stats summary'));
      const pods = JSON.parse(must(kubectl(['get', 'pods', ...release, '-o', 'json']), 'pods')).items;
      const used: Record<string, string> = {};
      expect(pods.filter((p: any) => p.status.phase === 'Running').length, 'running pods: the service and MariaDB').to.be.at.least(2);
      for (const pod of pods.filter((p: any) => p.status.phase === 'Running')) {
        const stats = summary.pods.find((s: any) => s.podRef.name === pod.metadata.name);
        for (const container of pod.spec.containers) {
          const limit = memoryBytes(container.resources.limits.memory);
          const workingSet = stats.containers.find((c: any) => c.name === container.name).memory.workingSetBytes;
          used[`${pod.metadata.name}/${container.name}`] = `${Math.round(workingSet / 2 ** 20)} of ${container.resources.limits.memory}`;
          expect(workingSet, `${pod.metadata.name}/${container.name}`).to.be.lessThan(limit * 0.8);
        }
      }
      console.log(`      memory in use: ${Object.entries(used).map(([name, value]) => `${name} ${value}`).join(', ')}`);
    });

    it('uninstalls without leaving an object of the release, but the data volume and the generated Secret it keeps on purpose', function () {
      must(helm(['uninstall', 'records', ...release, '--wait', '--timeout', '3m']), 'helm uninstall');
      must(kubectl(['wait', '--for', 'delete', 'pods', ...release, '-l', 'app.kubernetes.io/instance=records', '--timeout', '120s']), 'pods going');
      const left = objectsLeft('records', 'app.kubernetes.io/instance=records');
      expect(left).to.deep.equal(['persistentvolumeclaim/data-records-mariadb-0']);
      // The Secret the hook generated stays too (its passwords are the volume's), unlabelled.
      must(kubectl(['get', 'secret', 'records-generated', '-n', 'records']), 'the generated Secret');
      kubectl(['delete', 'pvc', '-n', 'records', '-l', 'app.kubernetes.io/instance=records', '--wait=false']);
      kubectl(['delete', 'secret', '-n', 'records', 'records-generated', '--wait=false']);
    });

    it('installs with no values on a cluster without KEDA: a CPU HPA owns the replicas, and NOTES say so', function () {
      const release = ['-n', 'records'];
      must(kubectl(['delete', 'crd', 'scaledobjects.keda.sh', '--wait=true', '--timeout=120s']), 'removing KEDA\'s ScaledObject CRD');
      try {
        const result = helm(['install', 'no-keda', 'charts/records', ...release, '--wait', '--timeout', '5m']);
        expect(result.status, result.stderr).to.equal(0);
        expect(result.stdout).to.contain('KEDA is not installed in this cluster');
        const hpa = JSON.parse(must(kubectl(['get', 'hpa', 'no-keda-records', ...release, '-o', 'json']), 'the HPA'));
        expect(hpa.spec.scaleTargetRef).to.deep.include({ kind: 'Deployment', name: 'no-keda-records' });
        expect(hpa.spec).to.deep.include({ minReplicas: 2, maxReplicas: 10 });
        must(helm(['uninstall', 'no-keda', ...release, '--wait', '--timeout', '3m']), 'helm uninstall');
        kubectl(['delete', 'pvc', ...release, '-l', 'app.kubernetes.io/instance=no-keda', '--wait=false']);
        kubectl(['delete', 'secret', ...release, 'no-keda-records-generated', '--wait=false']);
      } finally {
        installCrds();
      }
    });
  });

  describe('kubectl apply -k k8s/overlays/<env> with its documented prerequisites, on the real node', function () {
    let removeValkey = () => {};
    before(function () {
      removeValkey = provideValkey();
    });
    after(function () {
      removeValkey();
    });

    /**
     * What a user gives the overlay before `kubectl apply -k` (docs/gitops.md, "kubectl alone"):
     * production's image digest (the release sets it; here the digest of the image this run
     * built), and production's managed-Redis password Secret (the managed Redis itself is outside
     * any cluster: the service serves without its cache when it cannot reach it).
     */
    function prepare(environment: string): { directory: string; undo: () => void } {
      if (environment !== 'production') return { directory: `k8s/overlays/${environment}`, undo: () => {} };
      const images = readFileSync(`${process.env.TEST_CLUSTER_DIR}/image-digests`, 'utf8');
      const digest = /^ghcr\.io\/records\/records:\S+ (sha256:[0-9a-f]{64})$/m.exec(images)?.[1];
      expect(digest, images).to.be.a('string');
      const directory = mkdtempSync(join(tmpdir(), 'records-overlay-'));
      writeFileSync(join(directory, 'kustomization.yaml'), JSON.stringify({
        apiVersion: 'kustomize.config.k8s.io/v1beta1',
        kind: 'Kustomization',
        resources: [relative(directory, resolve('k8s/overlays/production'))],
        images: [{ name: 'ghcr.io/records/records', digest }],
      }));
      must(kubectl(['create', 'secret', 'generic', '-n', 'records', 'records-redis', '--from-literal=password=unused']), 'Secret records-redis');
      return {
        directory,
        undo: () => {
          rmSync(directory, { recursive: true, force: true });
          kubectl(['delete', 'secret', '-n', 'records', 'records-redis', '--ignore-not-found']);
        },
      };
    }

    for (const environment of ENVIRONMENTS) {
      it(`installs k8s/overlays/${environment}: its Jobs run to completion and the pods turn Ready against the database and Valkey`, function () {
        const { directory, undo } = prepare(environment);
        const overlay = kustomize(directory);
        const result = kubectl(['apply', '--server-side', '--field-manager', 'records-test', '-k', directory]);
        expect(result.status, result.stderr).to.equal(0);
        expect(warningsIn(result.stderr)).to.deep.equal([]);
        const removeDatabase = playMariadbOperator(overlay.find((object) => object.kind === 'MariaDB')!);
        const objects = overlay.filter((object) => object.metadata.labels?.['helm.sh/chart']);
        // Removed again afterwards: all but the cluster basics (k8s/base), which the suite keeps.
        const key = (object: K8sObject) => `${object.kind}/${object.metadata.namespace}/${object.metadata.name}`;
        const basics = new Set(kustomize('k8s/base').map(key));
        try {
          // Applied again, as a user re-running the command: no "field is immutable" on the Jobs.
          const again = kubectl(['apply', '--server-side', '--field-manager', 'records-test', '-k', directory]);
          expect(again.status, again.stderr).to.equal(0);
          for (const job of objects.filter((object) => object.kind === 'Job')) {
            must(kubectl(['wait', '--for', 'condition=Complete', '--timeout', '300s', '-n', 'records', `job/${job.metadata.name}`]), `Job ${job.metadata.name}`);
          }
          must(kubectl(['wait', '--for', 'condition=Available', '--timeout', '300s', '-n', 'records', 'deployment/records']), 'Deployment Available');
          const deployment = JSON.parse(must(kubectl(['get', 'deployment', 'records', '-n', 'records', '-o', 'json']), 'deployment'));
          expect(deployment.status.readyReplicas, 'Ready pods').to.equal(deployment.spec.replicas);
        } finally {
          kubectl(['delete', '--wait', '--timeout', '120s', '--ignore-not-found', '-f', '-'], asKubectlInput(overlay.filter((object) => !basics.has(key(object)))));
          removeDatabase();
          undo();
        }
      });
    }
  });
});
