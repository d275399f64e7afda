import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parse } from 'yaml';
import { chartPins, MIRROR_VARIABLE } from '../../tooling/upstream-mirror.js';

describe('upstream pins (tools/upstream.yaml)', function () {
  it('pins the charts Argo CD installs, at the versions argocd/apps/values.yaml installs', function () {
    const installed = parse(readFileSync('argocd/apps/values.yaml', 'utf8')).charts as Record<string, { repoURL: string; chart: string; version: string }>;
    const pinned = Object.fromEntries(chartPins().map(({ key, repoURL, chart, version }) => [key, { repoURL, chart, version }]));
    expect(pinned).to.deep.equal(installed);
  });

  it('takes Argo CD\'s CRDs from the version scripts/install-argocd builds', function () {
    const built = /^version=(v\S+)$/m.exec(readFileSync('scripts/install-argocd', 'utf8'))?.[1];
    const argocd = (parse(readFileSync('tools/upstream.yaml', 'utf8')).crdModules as Array<{ module: string; version: string }>).find((entry) => entry.module.startsWith('github.com/argoproj/argo-cd/'));
    expect(argocd?.version).to.equal(built);
  });

  it('fails at once, in one line naming RECORDS_UPSTREAM_MIRROR, without a mirror', function () {
    const result = spawnSync('node_modules/.bin/tsx', ['tooling/upstream.ts', 'dir'], { encoding: 'utf8', env: { ...process.env, [MIRROR_VARIABLE]: '/nonexistent/mirror' } });
    expect(result.status).to.equal(2);
    expect(result.stderr.trim().split('\n')).to.have.length(1);
    expect(result.stderr).to.contain('RECORDS_UPSTREAM_MIRROR');
  });
});
