import { createPrivateKey } from 'node:crypto';
import { expect } from 'chai';
import { ENVIRONMENTS } from '../../tooling/environments.js';
import { missingPrerequisites } from '../../tooling/deploy-check.js';
import { ensureGeneratedSecret } from '../../service/src/cluster/generated-secret.js';
import { kustomize, upstreamObjects, type K8sObject } from '../support/tools.js';
import { initSecretApi, restrictedPod } from './admission.js';
import { asKubectlInput, dryRun, helm, installCrds, kubectl, must, serviceAccountsReady } from './cluster.js';
import { expectArgoCdFeatureChecked, expectPassesOnceProvided } from './first-sync.js';
import { expectCpuHpaWithoutKeda, expectFailedMigrationsRunAgain, expectPodsWithinMemory, expectRollsWithoutFailure, expectTestPodPeakBelowTwoThirds, expectUninstalled } from './helm-lifecycle.js';
import { expectInstalled, expectPoliciesEnforced, expectServes, IMAGE_PROBE, release } from './helm-release.js';
import { operatorPod } from './mariadb-pods.js';
import { expectIndexExactAfterUpgrade, installPrevious, removeUpgradeRelease, upgradeUnderTraffic } from './previous-release-upgrade.js';
import { expectOverlayRuns } from './overlays.js';
import { nodeIn, standIn } from './pods.js';
import { shippedObjectSets } from './shipped-objects.js';
import { provideValkey } from './stand-ins.js';

/**
 * Installs on a real cluster (scripts/with-cluster: kube-apiserver, controller manager, scheduler
 * and etcd built from source, and a real node: containerd, runc, the kubelet, kube-proxy, CoreDNS,
 * kube-router enforcing NetworkPolicies). Admission is the API server's own, PodSecurity included;
 * pods run, probes decide readiness, Jobs run to completion. Played (./stand-ins.ts; the whole
 * list is docs/stand-ins.md): mariadb-operator, and Valkey on the kubectl path.
 */

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
    for (const [name, objects, namespace] of shippedObjectSets()) {
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
    const { problems } = dryRun(upstreamObjects('kong-2.48.0/rendered-with-kong-values-b3e13de.yaml').filter((object) => object.kind === 'Deployment'), 'kong');
    // The API server names the first unknown field it meets, and its order varies from run to run
    // (a Go map): any of the three container-level settings misplaced in the pod's securityContext.
    expect(problems.join('\n'), problems.join('\n')).to.match(/\.spec\.template\.spec\.securityContext\.(allowPrivilegeEscalation|capabilities|readOnlyRootFilesystem): field not declared in schema/);
  });

  it('checks what the first sync needs (make deploy-check CLUSTER=1): names each missing prerequisite, passes once all are there, and tells an Argo CD older than 3.3 by its AppProject CRD', function () {
    const missing = missingPrerequisites('staging', 'kubectl');
    for (const name of ['argocd-cm', 'kong/kong-ratelimit-redis', 'data/valkey-users', 'records/valkey-users', 'letsencrypt-staging']) {
      expect(missing.some((line) => line.includes(name)), `${name} in ${missing.join('; ')}`).to.equal(true);
    }
    expectPassesOnceProvided();
    expectArgoCdFeatureChecked();
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
    const over = kubectl(['apply', '--server-side', '--dry-run=server', '-f', '-'], asKubectlInput([restrictedPod('5Gi')]));
    expect(over.status).not.to.equal(0);
    expect(over.stderr).to.match(/maximum memory usage per Container is 4Gi, but limit is 5Gi/);
    expect(kubectl(['apply', '--server-side', '--dry-run=server', '-f', '-'], asKubectlInput([restrictedPod('4Gi')])).status).to.equal(0);
  });

  it('admits the pods of the project\'s model of mariadb-operator\'s pod builder, for each environment\'s MariaDB: restricted Pod Security and the LimitRange', function () {
    for (const environment of ENVIRONMENTS) {
      const mariadb = kustomize(`argocd/database/${environment}`).find((object) => object.kind === 'MariaDB')!;
      const { problems } = dryRun([operatorPod(mariadb)], 'records');
      expect(problems, environment).to.deep.equal([]);
    }
  });

  it('lets the init-secret hook, with the chart\'s own Role and a token of its ServiceAccount, create the Secret and add keys, keeping its values, and nothing more; refuses a Secret being deleted', async function () {
    const namespace = 'init-secret-test';
    const api = initSecretApi(namespace);
    const stored = () => JSON.parse(must(kubectl(['get', 'secret', 'records-generated', '-n', namespace, '-o', 'json']), 'secret')).data as Record<string, string>;
    expect(await ensureGeneratedSecret(api, { namespace, name: 'records-generated', keys: ['signing-key.pem', 'mariadb-password'] })).to.deep.equal({ created: true, added: ['signing-key.pem', 'mariadb-password'] });
    const first = stored();
    expect(await ensureGeneratedSecret(api, { namespace, name: 'records-generated', keys: ['signing-key.pem', 'mariadb-password'] })).to.deep.equal({ created: false, added: [] });
    expect(await ensureGeneratedSecret(api, { namespace, name: 'records-generated', keys: ['signing-key.pem', 'mariadb-password', 'mariadb-root-password'] })).to.deep.equal({ created: false, added: ['mariadb-root-password'] });
    // Existing values are kept on every later run; only the missing key was added.
    expect({ ...stored(), 'mariadb-root-password': undefined }).to.deep.equal({ ...first, 'mariadb-root-password': undefined });
    const keys = Object.keys(JSON.parse(must(kubectl(['get', 'secret', 'records-generated', '-n', namespace, '-o', 'json']), 'secret')).data).sort();
    expect(keys).to.deep.equal(['mariadb-password', 'mariadb-root-password', 'signing-key.pem']);
    // Nothing more: another Secret can be neither read nor changed with that token.
    must(kubectl(['create', 'secret', 'generic', 'someone-else', '-n', namespace, '--from-literal=k=v']), 'another Secret');
    let refused = '';
    await ensureGeneratedSecret(api, { namespace, name: 'someone-else', keys: ['mariadb-password'] }).catch((error: Error) => (refused = error.message));
    expect(refused).to.match(/reading Secret init-secret-test\/someone-else: HTTP 403/);
    // What it generates: a P-256 signing key and alphanumeric passwords.
    const values = stored();
    const decoded = (key: string) => Buffer.from(values[key] as string, 'base64').toString('utf8');
    expect(createPrivateKey(decoded('signing-key.pem')).asymmetricKeyDetails?.namedCurve).to.equal('prime256v1');
    expect([decoded('mariadb-password'), decoded('mariadb-root-password')].every((password) => /^[A-Za-z0-9]{32}$/.test(password))).to.equal(true);
    // A Secret being deleted (a finalizer holds it) is refused: its values vanish once the finalizer is done.
    must(kubectl(['patch', 'secret', 'records-generated', '-n', namespace, '--type', 'merge', '-p', '{"metadata":{"finalizers":["records.example.org/test"]}}']), 'a finalizer');
    must(kubectl(['delete', 'secret', 'records-generated', '-n', namespace, '--wait=false']), 'deleting');
    let deleting = '';
    await ensureGeneratedSecret(api, { namespace, name: 'records-generated', keys: ['mariadb-password'] }).catch((error: Error) => (deleting = error.message));
    expect(deleting).to.match(/Secret init-secret-test\/records-generated is being deleted/);
    must(kubectl(['patch', 'secret', 'records-generated', '-n', namespace, '--type', 'merge', '-p', '{"metadata":{"finalizers":null}}']), 'the finalizer removed');
    must(kubectl(['delete', 'namespace', namespace, '--wait=false']), 'cleanup');
  });

  it('settles concurrent init-secret runs on one value, against the real API server (proved before only against the project\'s model of it)', async function () {
    const namespace = 'init-secret-race';
    const api = initSecretApi(namespace);
    const runs = await Promise.all(Array.from({ length: 4 }, () => ensureGeneratedSecret(api, { namespace, name: 'records-generated', keys: ['mariadb-password'] })));
    expect(runs.filter((run) => run.created)).to.have.length(1);
    const password = Buffer.from(JSON.parse(must(kubectl(['get', 'secret', 'records-generated', '-n', namespace, '-o', 'json']), 'secret')).data['mariadb-password'], 'base64').toString('utf8');
    expect(password).to.match(/^[A-Za-z0-9]{32}$/);
    // Each run left it as the first made it: a later run's own value never replaced it.
    expect(await ensureGeneratedSecret(api, { namespace, name: 'records-generated', keys: ['mariadb-password'] })).to.deep.equal({ created: false, added: [] });
    must(kubectl(['delete', 'namespace', namespace, '--wait=false']), 'cleanup');
  });

  describe('helm install --wait of charts/records with no values, on the real node: serve, upgrade, rollback, test, uninstall', function () {
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
      expectInstalled();
    });

    it('runs the image as the Dockerfile built it: uid 10001, a read-only root, no npm and no dev dependency', function () {
      expect(JSON.parse(must(nodeIn('records', 'deploy/records', IMAGE_PROBE), 'inside the service container'))).to.deep.equal(
        { uid: 10001, gid: 10001, npm: false, typescript: false, mocha: false, koa: true, rootWritable: false });
    });

    it('serves a client pod through the Service with the token NOTES print: bulk load, search, get by id', function () {
      expectServes(client);
    });

    it('enforces its NetworkPolicies: every flow of docs/gitops.md tried from inside the pods, observed as expected', function () {
      expectPoliciesEnforced(client);
    });

    it('rolls the pods on a changed config value while a client loops reads, searches and writes, with no failed request; rolls back', async function () {
      await expectRollsWithoutFailure(client);
    });

    it('runs a migrations Job that failed again at the next helm upgrade with the same values (it found the failed one and ran nothing)', function () {
      expectFailedMigrationsRunAgain();
    });

    it('passes helm test: its pod runs and checks the service', function () {
      const result = helm(['test', 'records', ...release, '--timeout', '3m', '--logs']);
      expect(result.status, result.stderr + result.stdout).to.equal(0);
      expect(result.stdout).to.match(/\/readyz 200[\s\S]*\/v1\/\?limit=1 401[\s\S]*\/v1\/\?limit=1 200/);
    });

    it('sizes the helm test pod by its measured peak: the rendered pod, run to its end, peaks below 2/3 of its limit', async function () {
      await expectTestPodPeakBelowTwoThirds();
    });

    it('keeps every pod within its memory limit under that traffic (the kubelet\'s /stats/summary)', function () {
      expectPodsWithinMemory();
    });

    it('uninstalls without leaving an object of the release, but the data volume and the generated Secret it keeps on purpose', function () {
      expectUninstalled();
    });

    it('installs with no values on a cluster without KEDA: a CPU HPA owns the replicas, and NOTES say so', function () {
      expectCpuHpaWithoutKeda();
    });
  });

  describe('helm upgrade from the previous release (its chart and image) across migration 0005, on the real node', function () {
    const client = 'upgrade-client';
    before(function () {
      standIn({ name: 'a client', namespace: 'kong', labels: { 'app.kubernetes.io/name': 'records-client' }, ports: {} }, client);
    });
    after(function () {
      removeUpgradeRelease();
      kubectl(['delete', 'pod', '-n', 'kong', client, '--wait=false', '--ignore-not-found']);
    });

    it('installs the previous release, whose migrations stop at 0004, and serves a first record', function () {
      installPrevious(client);
    });

    it('upgrades while a client loops reads, searches and writes through the Service: 0005 applied, no failed request', async function () {
      const counts = await upgradeUnderTraffic(client);
      console.log(`      during the upgrade: ${counts.ok} requests answered 200, ${counts.failed.length} failed`);
      expect(counts.failed, `${counts.ok} requests answered 200`).to.deep.equal([]);
      expect(counts.ok).to.be.greaterThan(30);
    });

    it('finds by search exactly the records both versions wrote during the upgrade', function () {
      expectIndexExactAfterUpgrade(client);
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

    for (const environment of ENVIRONMENTS) {
      it(`installs k8s/overlays/${environment}: its Jobs run to completion and the pods turn Ready against the test MariaDB (its operator played) and the redis-server standing in for Valkey`, function () {
        expectOverlayRuns(environment);
      });
    }
  });
});
