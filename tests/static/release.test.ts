import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';

/**
 * The release pipeline, as far as it can be proven without GitHub: the workflows pass actionlint
 * (built from its Go module) and pin every action by commit with least-privilege permissions, no job
 * that can publish runs install scripts, and the SBOM lists exactly the image's runtime dependencies.
 * That every place naming the version agrees, and what Renovate's custom managers find:
 * release-versions.test.ts (no outside tools).
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
});
