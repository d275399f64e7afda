import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { deployFiles, placeholdersIn } from '../../tooling/deploy-check.js';

describe('make deploy-check', function () {
  this.timeout(30_000);
  it('fails while production holds a placeholder, naming each, and passes once they are replaced', function () {
    const result = spawnSync('node_modules/.bin/tsx', ['tooling/deploy-check.ts', 'production'], { encoding: 'utf8' });
    expect(result.status).to.equal(1);
    expect(result.stderr).to.contain('the all-zero image digest');
    expect(result.stderr).to.contain('the example repository URL');
    expect(result.stderr).to.contain('kong/keys/production/identity-provider.jwks.json:7: an example seed key');
    // The kubectl path too: an overlay not made again after the values were filled in still pulls the all-zero digest.
    expect(result.stderr).to.match(/k8s\/overlays\/production\/records\.yaml:\d+: the all-zero image digest/);
    const files = Object.fromEntries(deployFiles('production').map((path) => [path, readFileSync(path, 'utf8')]));
    const filled = Object.fromEntries(
      Object.entries(files).map(([path, text]) => [
        path,
        text
          .replaceAll('github.com/records/records', 'git.acme.test/platform/records')
          .replaceAll('ghcr.io/records/', 'registry.acme.test/records/')
          .replace(/([a-z0-9.-]*)example\.org/g, '$1acme.test')
          .replace(/sha256:0{64}/g, `sha256:${'ab'.repeat(32)}`)
          .replaceAll('192.0.2.', '10.20.30.')
          .replaceAll('"kid": "example-', '"kid": "'),
      ]),
    );
    expect(placeholdersIn('production', filled)).to.deep.equal([]);
    const branch = { ...filled, 'argocd/root/production.yaml': filled['argocd/root/production.yaml']!.replace('targetRevision: v0.1.0', 'targetRevision: main') };
    expect(placeholdersIn('production', branch).join('\n')).to.contain('production tracks main');
    // A chart mirror given inline, as argocd/apps/values.yaml's example writes it, tracking a branch.
    const mirrorOn = (revision: string) => ({ ...filled, 'argocd/apps/values-production.yaml': `${filled['argocd/apps/values-production.yaml']}charts:\n  keda: { mirror: { repoURL: https://git.acme.test/mirrors.git, targetRevision: ${revision}, path: keda-2.20.2 } }\n` });
    expect(placeholdersIn('production', mirrorOn('main')).join('\n')).to.contain('production tracks main');
    expect(placeholdersIn('production', mirrorOn('v2026.12.1'))).to.deep.equal([]);
  });
});
