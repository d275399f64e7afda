import { expect } from 'chai';
import { memoryBytes } from '../support/memory-quantity.js';
import { asKubectlInput, helm, installCrds, kubectl, must, objectsLeft } from './cluster.js';
import { helmTemplate } from '../support/tools.js';
import { loopingClient, type LoopCounts } from './pods.js';
import { release } from './helm-release.js';
import { mintToken, SERVICE_URL } from './service-token.js';

/**
 * The installed release's life after it serves, as the cluster suite checks it: upgraded and
 * rolled back under a client's traffic, its helm test pod and its pods within their memory, then
 * uninstalled; and a second install on a cluster without KEDA.
 */

const configMap = () => JSON.parse(must(kubectl(['get', 'configmap', 'records', ...release, '-o', 'json']), 'configmap')).data;
const template = () => JSON.parse(must(kubectl(['get', 'deployment', 'records', ...release, '-o', 'json']), 'deployment')).spec.template;

/** A changed config value rolls the pods while `client` loops reads, searches and writes, with no failed request; rolled back. */
export async function expectRollsWithoutFailure(client: string): Promise<void> {
  const looping = loopingClient('kong', client, SERVICE_URL, mintToken(), ['get', 'search', 'bulk']);
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
}

const migrationsJobs = () =>
  JSON.parse(must(kubectl(['get', 'jobs', ...release, '-l', 'app.kubernetes.io/component=migrations', '-o', 'json']), 'the migrations Jobs')).items as Array<{
    metadata: { name: string };
  }>;
/** Runs SQL as MariaDB's root in the bundled MariaDB's pod. */
const asRoot = (sql: string) => must(kubectl(['exec', ...release, 'records-mariadb-0', '-c', 'mariadb', '--', 'sh', '-c', `mariadb -uroot -p"$MARIADB_ROOT_PASSWORD" -e "${sql}"`]), sql);

/**
 * A migrations Job that failed (here: the database refusing the service's account past the Job's
 * deadline) is run again by the next `helm upgrade` with the same values, once the cause is gone.
 * It was not: the Job was named after its pod template alone, so the upgrade found it, Failed, ran
 * nothing (pods of an image whose migrations never ran stay unready), and `helm upgrade --wait` failed on it.
 */
export function expectFailedMigrationsRunAgain(): void {
  const quickToFail = ['--reuse-values', '--set', 'migrations.waitSeconds=4', '--set', 'migrations.activeDeadlineSeconds=30', '--set', 'migrations.backoffLimit=0'];
  const before = migrationsJobs().map((job) => job.metadata.name);
  asRoot("ALTER USER 'records'@'%' ACCOUNT LOCK");
  let failed: string | undefined;
  try {
    must(helm(['upgrade', 'records', 'charts/records', ...release, ...quickToFail]), 'helm upgrade while the database refuses the service');
    failed = migrationsJobs().find((job) => !before.includes(job.metadata.name))?.metadata.name;
    expect(failed, 'the upgrade\'s migrations Job').not.to.equal(undefined);
    must(kubectl(['wait', '--for', 'condition=Failed', '--timeout', '120s', ...release, `job/${failed}`]), 'the migrations Job failing');
  } finally {
    asRoot("ALTER USER 'records'@'%' ACCOUNT UNLOCK");
  }
  // The same command again, nothing changed but the database: a new Job runs and completes.
  must(helm(['upgrade', 'records', 'charts/records', ...release, ...quickToFail, '--wait', '--timeout', '3m']), 'helm upgrade run again');
  const rerun = migrationsJobs().find((job) => job.metadata.name !== failed);
  expect(rerun, `a migrations Job besides the failed ${failed}`).not.to.equal(undefined);
  must(kubectl(['wait', '--for', 'condition=Complete', '--timeout', '120s', ...release, `job/${rerun!.metadata.name}`]), 'the migrations Job run again');
  // The failed Job was the previous revision's: helm removed it.
  expect(migrationsJobs().map((job) => job.metadata.name)).to.deep.equal([rerun!.metadata.name]);
}

/** The rendered helm test pod, run to its end, peaks below 2/3 of its memory limit. */
export async function expectTestPodPeakBelowTwoThirds(): Promise<void> {
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
}

/** Every running pod of the release within 80 % of its memory limit, by the kubelet's /stats/summary. */
export function expectPodsWithinMemory(): void {
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
}

/** helm uninstall leaves no object of the release but the data volume and the generated Secret (then removed here). */
export function expectUninstalled(): void {
  must(helm(['uninstall', 'records', ...release, '--wait', '--timeout', '3m']), 'helm uninstall');
  must(kubectl(['wait', '--for', 'delete', 'pods', ...release, '-l', 'app.kubernetes.io/instance=records', '--timeout', '120s']), 'pods going');
  const left = objectsLeft('records', 'app.kubernetes.io/instance=records');
  expect(left).to.deep.equal(['persistentvolumeclaim/data-records-mariadb-0']);
  // The Secret the hook generated stays too (its passwords are the volume's), unlabelled.
  must(kubectl(['get', 'secret', 'records-generated', '-n', 'records']), 'the generated Secret');
  kubectl(['delete', 'pvc', '-n', 'records', '-l', 'app.kubernetes.io/instance=records', '--wait=false']);
  kubectl(['delete', 'secret', '-n', 'records', 'records-generated', '--wait=false']);
}

/** A release installed with no values where KEDA's ScaledObject CRD is gone: a CPU HPA owns the replicas, and NOTES say so. */
export function expectCpuHpaWithoutKeda(): void {
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
}
