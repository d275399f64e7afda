import { expect } from 'chai';
import { kubectl, helm, must, warningsIn } from './cluster.js';
import { clusterIp, nodeIn, resolve as resolveName, standIn, tcpFrom, tcpFromBash } from './pods.js';
import { mintToken, SERVICE_URL } from './service-token.js';

/**
 * The release `helm install --wait` makes of charts/records with no values, on the real node, as
 * the cluster suite checks it: installed, running the image as built, serving a client pod, its
 * NetworkPolicies enforced. `client` is the client pod the suite stands in Kong's namespace.
 */

export const release = ['-n', 'records'];

/** helm install: MariaDB runs, the hook pod generates the Secret, the migrations Job migrates, the pods turn Ready by their own probes. */
export function expectInstalled(): void {
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
}

/** What the service container is, seen from inside it: its uid and gid, npm, dev dependencies, a writable root. */
export const IMAGE_PROBE = `
        const fs = require('node:fs');
        const resolvable = (name) => { try { require.resolve(name, { paths: ['/app'] }); return true; } catch { return false; } };
        let writable = true;
        try { fs.writeFileSync('/app/probe', ''); } catch { writable = false; }
        console.log(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), npm: fs.existsSync('/usr/local/bin/npm'),
          typescript: resolvable('typescript'), mocha: resolvable('mocha'), koa: resolvable('koa'), rootWritable: writable }));`;

/** The client pod, through the Service, with the token NOTES print: bulk load, search, get by id. */
export function expectServes(client: string): void {
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
  const answer = JSON.parse(must(nodeIn('kong', client, script, [SERVICE_URL, mintToken()]), 'the client'));
  expect(answer.bulk).to.equal(200);
  expect(answer.stored.inserted).to.equal(1);
  expect(answer.stored.rejected).to.have.length(1);
  expect(answer.one).to.equal(200);
  expect(answer.record).to.deep.include({ id: answer.stored.ids[0], title: 'Le confort de la maison', uri: 'https://example.org/confort/1' });
  expect(answer.search).to.equal(200);
  expect(JSON.stringify(answer.found)).to.contain('Le confort de la maison');
}

/** Every flow of docs/gitops.md tried from inside the pods (a stranger's and a scraper's stood in for it), observed as expected. */
export function expectPoliciesEnforced(client: string): void {
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
}
