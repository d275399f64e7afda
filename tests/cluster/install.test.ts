import { readdirSync, readFileSync } from 'node:fs';
import { ENVIRONMENTS } from '../../tooling/environments.js';
import { expect } from 'chai';
import { helmTemplate, kongRender, kustomize, parseObjects, renderApps, throughTpl, upstreamDefaults, upstreamObjects, type K8sObject } from '../support/tools.js';
import { chartPin } from '../../tooling/upstream-mirror.js';
import { ensureGeneratedSecret } from '../../service/src/cluster/generated-secret.js';
import { missingPrerequisites } from '../../tooling/deploy-check.js';
import { allowed } from '../support/network-policy.js';
import { operatorPod } from './mariadb-pods.js';
import { dryRun, helm, installCrds, kubectl, must, objectsLeft, asKubectlInput, serviceAccountsReady, warningsIn } from './cluster.js';

/**
 * Installs against a real API server (scripts/with-cluster: kube-apiserver, controller manager,
 * scheduler and etcd built from source, kwok playing the nodes). Admission is the API server's own,
 * PodSecurity included. kwok marks pods Ready and completes Job pods without running a container:
 * what a container would do (migrate, generate the Secret, serve) is not proven here.
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

  describe('helm install --wait of charts/records with no values, then upgrade, rollback, test, uninstall', function () {
    const release = ['-n', 'records'];
    const configMap = () => JSON.parse(must(kubectl(['get', 'configmap', 'records', ...release, '-o', 'json']), 'configmap')).data;
    const template = () => JSON.parse(must(kubectl(['get', 'deployment', 'records', ...release, '-o', 'json']), 'deployment')).spec.template;

    it('installs: the init-secret hook and the migrations Job complete, the Deployment becomes Available, the ScaledObject is accepted', function () {
      const result = helm(['install', 'records', 'charts/records', ...release, '--wait', '--timeout', '5m']);
      expect(result.status, result.stderr).to.equal(0);
      expect(warningsIn(result.stderr), 'warnings').to.deep.equal([]);
      const deployment = JSON.parse(must(kubectl(['get', 'deployment', 'records', ...release, '-o', 'json']), 'deployment'));
      expect(deployment.status.conditions.find((c: any) => c.type === 'Available')?.status).to.equal('True');
      const jobs = JSON.parse(must(kubectl(['get', 'jobs', ...release, '-o', 'json']), 'jobs')).items;
      const migrate = jobs.find((job: any) => job.metadata.name.startsWith('records-migrate-'));
      must(kubectl(['wait', '--for', 'condition=Complete', '--timeout', '120s', ...release, `job/${migrate?.metadata.name}`]), 'the migrations Job');
      // The init-secret hook and its RBAC are deleted once it succeeded.
      expect(jobs.map((job: any) => job.metadata.name)).not.to.include('records-init-secret');
      expect(kubectl(['get', 'role', 'records-init-secret', ...release]).status).not.to.equal(0);
      expect(must(kubectl(['get', 'scaledobject', 'records', ...release, '-o', 'name']), 'ScaledObject').trim()).to.equal('scaledobject.keda.sh/records');
      expect(JSON.parse(must(kubectl(['get', 'statefulset', 'records-mariadb', ...release, '-o', 'json']), 'mariadb')).status.readyReplicas).to.equal(1);
    });

    it('allows and denies the flows of docs/gitops.md between the pods it runs, computed from the applied policies', function () {
      // policy-assistant (kubernetes-sigs/network-policy-api) is not served by the Go module proxy;
      // the project's evaluator (tests/support/network-policy.ts) reads what the API server holds.
      const policies = JSON.parse(must(kubectl(['get', 'networkpolicies', '-A', '-o', 'json']), 'policies')).items as K8sObject[];
      const pods = JSON.parse(must(kubectl(['get', 'pods', '-n', 'records', '-o', 'json']), 'pods')).items as K8sObject[];
      const pod = (name: string) => {
        const found = pods.find((candidate) => candidate.metadata.labels?.['app.kubernetes.io/name'] === name) as K8sObject;
        expect(found, name).to.not.equal(undefined);
        return { name, namespace: 'records', labels: found.metadata.labels ?? {}, ports: { http: 8000, mysql: 3306 } };
      };
      const records = pod('records');
      const mariadb = pod('records-mariadb');
      const migrate = pod('records-migrate');
      const kong = { name: 'kong', namespace: 'kong', labels: { 'app.kubernetes.io/name': 'kong' } };
      const stranger = { name: 'other', namespace: 'default', labels: { app: 'other' } };
      const dns = { name: 'dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } };
      expect(allowed(policies, { from: kong, to: records, port: 8000 })).to.equal(true);
      expect(allowed(policies, { from: records, to: mariadb, port: 3306 })).to.equal(true);
      expect(allowed(policies, { from: migrate, to: mariadb, port: 3306 })).to.equal(true);
      expect(allowed(policies, { from: records, to: dns, port: 53, protocol: 'UDP' })).to.equal(true);
      expect(allowed(policies, { from: stranger, to: records, port: 8000 })).to.equal(false);
      expect(allowed(policies, { from: kong, to: mariadb, port: 3306 })).to.equal(false);
      expect(allowed(policies, { from: migrate, to: records, port: 8000 })).to.equal(false);
    });

    it('rolls the pods on a changed config value, and rolls back to the previous revision', function () {
      const before = template().metadata.annotations['checksum/config'];
      must(helm(['upgrade', 'records', 'charts/records', ...release, '--set', 'config.logLevel=debug', '--wait', '--timeout', '5m']), 'helm upgrade');
      expect(template().metadata.annotations['checksum/config']).not.to.equal(before);
      expect(configMap().LOG_LEVEL).to.equal('debug');
      const replicaSets = JSON.parse(must(kubectl(['get', 'replicasets', ...release, '-l', 'app.kubernetes.io/name=records', '-o', 'json']), 'rs')).items;
      expect(replicaSets.filter((rs: any) => rs.status.replicas > 0), 'only the new ReplicaSet has pods').to.have.length(1);
      must(helm(['rollback', 'records', '1', ...release, '--wait', '--timeout', '5m']), 'helm rollback');
      expect(configMap().LOG_LEVEL).to.equal('info');
      expect(template().metadata.annotations['checksum/config']).to.equal(before);
      const history = JSON.parse(must(helm(['history', 'records', ...release, '-o', 'json']), 'history'));
      expect(history.map((entry: any) => entry.revision)).to.deep.equal([1, 2, 3]);
    });

    it('passes helm test', function () {
      const result = helm(['test', 'records', ...release, '--timeout', '3m']);
      expect(result.status, result.stderr + result.stdout).to.equal(0);
    });

    it('uninstalls without leaving an object of the release, but the data volume it keeps on purpose', function () {
      must(helm(['uninstall', 'records', ...release, '--wait', '--timeout', '3m']), 'helm uninstall');
      // Pods go once their owners are gone (the garbage collector, then kwok's delete stage).
      must(kubectl(['wait', '--for', 'delete', 'pods', ...release, '-l', 'app.kubernetes.io/instance=records', '--timeout', '120s']), 'pods going');
      const left = objectsLeft('records', 'app.kubernetes.io/instance=records');
      // The MariaDB volume (and the generated Secret, which kwok's pods never create) outlive the release by design.
      expect(left.filter((name) => !name.startsWith('persistentvolumeclaim/data-records-mariadb-'))).to.deep.equal([]);
      kubectl(['delete', 'pvc', '-n', 'records', '-l', 'app.kubernetes.io/instance=records', '--wait=false']);
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
      } finally {
        installCrds();
      }
    });
  });

  for (const environment of ENVIRONMENTS) {
    it(`installs k8s/overlays/${environment} with kubectl apply -k: its Jobs complete and the Deployment becomes Available`, function () {
      const result = kubectl(['apply', '--server-side', '--field-manager', 'records-test', '-k', `k8s/overlays/${environment}`]);
      expect(result.status, result.stderr).to.equal(0);
      expect(warningsIn(result.stderr)).to.deep.equal([]);
      // Applied again, as a user re-running the command: no "field is immutable" on the Jobs.
      const again = kubectl(['apply', '--server-side', '--field-manager', 'records-test', '-k', `k8s/overlays/${environment}`]);
      expect(again.status, again.stderr).to.equal(0);
      must(kubectl(['wait', '--for', 'condition=Available', '--timeout', '180s', '-n', 'records', 'deployment/records']), 'Deployment Available');
      // The overlay's chart part (records.yaml): removed again afterwards; its base part stays.
      const objects = kustomize(`k8s/overlays/${environment}`).filter((object) => object.metadata.labels?.['helm.sh/chart']);
      for (const job of objects.filter((object) => object.kind === 'Job')) {
        must(kubectl(['wait', '--for', 'condition=Complete', '--timeout', '180s', '-n', 'records', `job/${job.metadata.name}`]), `Job ${job.metadata.name}`);
      }
      must(kubectl(['delete', '--wait', '--timeout', '120s', '-f', '-'], asKubectlInput(objects)), 'removing the overlay');
    });
  }
});
