import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { kubectl, must } from '../cluster/cluster.js';
import { loopingClient, standIn } from '../cluster/pods.js';
import { mintToken, SERVICE_URL } from '../cluster/service-token.js';
import { applications, eventually, isConverged, type Repository } from './argocd.js';
import { byName } from './checks.js';
import { podsOf, replicaSetsOf } from './deploy.js';

/**
 * Changes committed to the test's copy of this repository, which Argo CD syncs by itself while
 * `meanwhile` plays the stand-in controllers: a changed value that rolls the records pods, a
 * resource deleted and brought back.
 */

/** A new commit synced by itself rolls the records pods while a client pod reads, with no failed request. */
export async function expectRolloutWithoutFailure(records: Repository, meanwhile: () => void): Promise<void> {
  const client = 'argocd-client';
  standIn({ name: 'a client', namespace: 'kong', labels: { 'app.kubernetes.io/name': 'records-client' }, ports: {} }, client);
  const seed = `fetch(process.argv.at(-2) + '/v1/bulk', { method: 'POST', headers: { authorization: 'Bearer ' + process.argv.at(-1), 'content-type': 'application/json' },
        body: JSON.stringify({ items: [{ title: 'Maison de confort', uri: 'https://example.org/1', date: '2015-06-01' }] }) }).then((r) => r.json()).then((body) => console.log(JSON.stringify(body)))`;
  const seeded = JSON.parse(must(kubectl(['exec', '-n', 'kong', client, '--', 'node', '-e', seed, '--', SERVICE_URL, mintToken()]), 'writing the record the client reads'));
  expect(seeded.ids, 'the client reads /v1/1').to.deep.equal([1]);

  const before = replicaSetsOf('records', 'records');
  const valuesFile = 'argocd/values/records/staging.yaml';
  const looping = loopingClient('kong', client, SERVICE_URL, mintToken(), ['get', 'search']);
  let counts: Awaited<ReturnType<typeof looping.stop>>;
  try {
    expect(records.read(valuesFile)).to.match(/^ {2}logLevel: debug$/m);
    records.write(valuesFile, records.read(valuesFile).replace(/^ {2}logLevel: debug$/m, '  logLevel: info'));
    const sha = records.commit('staging: log at info');
    await eventually(`records-staging synced at ${sha.slice(0, 7)} with its pods rolled`, 300, () => {
      const app = byName(applications(), 'records-staging');
      if (!app || !isConverged(app) || !(app.status?.sync?.revisions ?? []).includes(sha)) return false;
      const now = replicaSetsOf('records', 'records');
      const current = now.find((set) => set.replicas > 0);
      return current && !before.some((set) => set.hash === current.hash) && now.every((set) => set === current || set.replicas === 0) && current.ready === current.replicas;
    }, meanwhile);
  } finally {
    counts = await looping.stop();
    kubectl(['delete', 'pod', client, '-n', 'kong', '--wait=false']);
  }
  expect(counts.failed, `${counts.ok} requests answered 200`).to.deep.equal([]);
  expect(counts.ok).to.be.greaterThan(20);
  const config = JSON.parse(must(kubectl(['get', 'configmap', 'records', '-n', 'records', '-o', 'json']), 'reading the ConfigMap'));
  expect(config.data.LOG_LEVEL).to.equal('info');
  const pods = podsOf('records', 'app.kubernetes.io/name=records');
  const current = replicaSetsOf('records', 'records').find((set) => set.replicas > 0)!;
  expect(pods.length).to.be.greaterThan(0);
  expect(pods.every((pod) => pod.hash === current.hash), 'every pod from the new template').to.equal(true);
}

/** The database's NetworkPolicy deleted from the repository is pruned, and created again when it comes back. */
export async function expectPrunedAndBack(records: Repository, meanwhile: () => void): Promise<void> {
  const files = ['argocd/database/base/network-policy.yaml', 'argocd/database/base/kustomization.yaml'];
  expect(kubectl(['get', 'networkpolicy', 'records-db', '-n', 'records']).status).to.equal(0);
  records.remove(files[0]!);
  records.write(files[1]!, records.read(files[1]!).replace(/^resources:\n {2}- network-policy\.yaml\n/m, 'resources: []\n'));
  const sha = records.commit('database: drop the NetworkPolicy');
  await eventually('NetworkPolicy records-db pruned', 300, () => {
    const app = byName(applications(), 'database-staging');
    return app && isConverged(app) && app.status?.sync?.revision === sha && kubectl(['get', 'networkpolicy', 'records-db', '-n', 'records']).status !== 0;
  }, meanwhile);
  // Back as committed: without it, the namespace's default deny cuts the database off.
  for (const file of files) records.write(file, readFileSync(file, 'utf8'));
  const back = records.commit('database: the NetworkPolicy again');
  await eventually('NetworkPolicy records-db back', 300, () => {
    const app = byName(applications(), 'database-staging');
    return app && isConverged(app) && app.status?.sync?.revision === back && kubectl(['get', 'networkpolicy', 'records-db', '-n', 'records']).status === 0;
  }, meanwhile);
}
