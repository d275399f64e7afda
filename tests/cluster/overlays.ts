import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { expect } from 'chai';
import { kustomize, type K8sObject } from '../support/tools.js';
import { asKubectlInput, kubectl, must, warningsIn } from './cluster.js';
import { playMariadbOperator } from './stand-ins.js';

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

/**
 * `kubectl apply -k` of k8s/overlays/`environment`, prepared as above, with mariadb-operator
 * played: its Jobs run to completion and the pods turn Ready. Removes it again afterwards.
 */
export function expectOverlayRuns(environment: string): void {
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
}
