import { join } from 'node:path';
import { expect } from 'chai';
import { extractPreviousRelease, PREVIOUS_RELEASE } from '../support/previous-release.js';
import { helm, kubectl, must } from './cluster.js';
import { release } from './helm-release.js';
import { loopingClient, nodeIn, type LoopCounts } from './pods.js';

/**
 * A rolling upgrade on the real node from the previous release (the commit in
 * tests/support/previous-release.commit: its chart, from this repository's history, and its image, which
 * scripts/install-previous-image built from its own Dockerfile) to this checkout's chart and image,
 * across migration 0005_index_fragments, while a client pod loops reads, searches and writes
 * through the Service. The chart's own rollout decides everything: the new migrations Job, the new
 * pod's readiness, the old pod's drain.
 */

const NAME = 'upgrade';
const FULLNAME = `${NAME}-records`;
const UPGRADE_URL = `http://${FULLNAME}.records.svc.cluster.local:8000`;
const previousImage = `ghcr.io/records/records:${PREVIOUS_RELEASE.slice(0, 7)}`;

const deployment = () => JSON.parse(must(kubectl(['get', 'deployment', FULLNAME, ...release, '-o', 'json']), 'deployment'));
/** What the migrations Job of the current revision logged. */
function migrationLog(): string {
  const image = deployment().spec.template.spec.containers[0].image as string;
  const jobs = JSON.parse(must(kubectl(['get', 'jobs', ...release, '-l', `app.kubernetes.io/instance=${NAME}`, '-o', 'json']), 'jobs')).items;
  const job = jobs.find((each: any) => each.spec.template.spec.containers[0].image === image);
  expect(job, `a migrations Job running ${image}`).to.not.equal(undefined);
  must(kubectl(['wait', '--for', 'condition=Complete', '--timeout', '180s', ...release, `job/${job.metadata.name}`]), 'the migrations Job');
  return must(kubectl(['logs', ...release, `job/${job.metadata.name}`]), 'migration logs');
}

/** Installs the previous release as `upgrade` with its own image, and stores a first record (the client's reads ask for id 1). */
export function installPrevious(client: string): void {
  const previous = extractPreviousRelease(['charts/records']);
  try {
    must(helm(['install', NAME, join(previous.root, 'charts/records'), ...release, '--set', `image.tag=${PREVIOUS_RELEASE.slice(0, 7)}`, '--wait', '--timeout', '5m']), 'helm install of the previous release');
  } finally {
    previous.remove();
  }
  expect(deployment().spec.template.spec.containers[0].image).to.equal(previousImage);
  const applied = migrationLog();
  expect(applied).to.contain('0004_title_postings');
  expect(applied).not.to.contain('0005_index_fragments');
  const seeded = must(nodeIn('kong', client, `
    const [base, token] = process.argv.slice(-2);
    fetch(base + '/v1/bulk', { method: 'POST', headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' },
      body: JSON.stringify({ items: [{ title: 'Le confort de la maison', date: '1985-03-30' }] }) }).then(async (r) => console.log(r.status, await r.text()));`, [UPGRADE_URL, upgradeToken()]), 'the first record');
  expect(seeded).to.match(/^200 .*"ids":\[1\]/);
}

/** A token the release accepts, minted in its Deployment (the release's signing key survives the upgrade). */
const upgradeToken = () =>
  must(kubectl(['exec', ...release, `deploy/${FULLNAME}`, '--', 'node', 'service/dist/main.js', 'token', '--aud', FULLNAME, '--scope', 'records:read records:write', '--ttl', '3600']), 'minting a token').trim();

/** helm upgrade to this checkout's chart and image while `client` loops; returns what the client counted. */
export async function upgradeUnderTraffic(client: string): Promise<LoopCounts> {
  const looping = loopingClient('kong', client, UPGRADE_URL, upgradeToken(), ['get', 'search', 'bulk']);
  let counts: LoopCounts;
  try {
    // --reset-values: this chart's defaults, as for a user who installed with none (the previous
    // release's image tag was set only because both releases carry appVersion 0.1.0).
    must(helm(['upgrade', NAME, 'charts/records', ...release, '--reset-values', '--wait', '--timeout', '5m']), 'helm upgrade to this release');
    const migrated = migrationLog();
    expect(migrated, migrated).to.match(/"applied":\["0005_index_fragments","0006_text_folding"\]/);
    const rollout = deployment();
    expect(rollout.spec.template.spec.containers[0].image).not.to.equal(previousImage);
    expect(rollout.status.updatedReplicas).to.equal(rollout.spec.replicas);
    // Let the client run against the new pods alone for a moment, as it did against the old.
    await new Promise((resolve) => setTimeout(resolve, 5000));
  } finally {
    counts = await looping.stop();
  }
  return counts;
}

/**
 * What both versions wrote is found by search afterwards: the records the loop wrote (titles
 * "loop N", ids 2 and up, written by the old pod, then by the new one) are exactly what a search
 * for "loop" pages through, and no record follows the last of them.
 */
export function expectIndexExactAfterUpgrade(client: string): void {
  const script = `
    const [base, token] = process.argv.slice(-2);
    const headers = { authorization: 'Bearer ' + token };
    (async () => {
      const ids = [];
      for (let cursor = ''; ; ) {
        const page = await (await fetch(base + '/v1/?contains=loop&limit=1000' + (cursor ? '&cursor=' + cursor : ''), { headers })).json();
        ids.push(...page.items.map((item) => item.id));
        if (!page.next) break;
        cursor = encodeURIComponent(page.next);
      }
      const after = await fetch(base + '/v1/' + (Math.max(...ids) + 1), { headers });
      console.log(JSON.stringify({ ids, after: after.status }));
    })().catch((error) => { console.error(error); process.exit(1); });`;
  const { ids, after } = JSON.parse(must(nodeIn('kong', client, script, [UPGRADE_URL, upgradeToken()]), 'searching what the loop wrote')) as { ids: number[]; after: number };
  const sorted = [...ids].sort((a, b) => a - b);
  expect(sorted.length, 'records the loop wrote').to.be.greaterThan(10);
  expect(sorted).to.deep.equal(Array.from({ length: sorted.length }, (_, i) => i + 2));
  expect(after, 'a record after the last one found').to.equal(404);
}

/** The release and what it keeps on uninstall (its data volume and generated Secret) removed. */
export function removeUpgradeRelease(): void {
  helm(['uninstall', NAME, ...release, '--wait', '--timeout', '3m']);
  kubectl(['delete', 'pvc', ...release, '-l', `app.kubernetes.io/instance=${NAME}`, '--wait=false']);
  kubectl(['delete', 'secret', ...release, `${FULLNAME}-generated`, '--wait=false', '--ignore-not-found']);
}
