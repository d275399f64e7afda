import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { running } from '../support/processes.js';
import { settledWithin, waitFor } from '../support/wait.js';

/**
 * The tools cache (scripts/lib.sh) is shared by every clone on a machine: a build under way must
 * never be taken for a finished one, nor pruned by another clone building a newer version, and a
 * change to a recipe must give it a new key.
 */
describe('the tools cache (scripts/lib.sh)', function () {
  this.timeout(20_000);
  const installers = readdirSync('scripts').filter((name) => name.startsWith('install-') && /\btools_cache "/.test(readFileSync(`scripts/${name}`, 'utf8')));

  it('finds the installers that keep a tool in it', function () {
    expect(installers).to.include.members(['install-cluster-tools', 'install-argocd', 'install-keda', 'install-images', 'install-otelcol']);
  });

  for (const name of installers) {
    it(`${name} takes the tool's lock before it looks for a finished build`, function () {
      const text = readFileSync(`scripts/${name}`, 'utf8');
      const lock = text.search(/^lock_tools_cache /m);
      expect(lock, 'lock_tools_cache').to.be.greaterThan(-1);
      expect(lock).to.be.lessThan(text.search(/\btools_cache "/));
    });

    const key = readFileSync(`scripts/${name}`, 'utf8').match(/^key=.*$/m)?.[0];
    if (key) {
      it(`${name} keys its build by its own recipe`, function () {
        expect(key).to.match(/cat "\$0"/);
      });
    }
    if (key?.includes('"$go"')) {
      // The key holds the toolchain's version, so without Go no build can be found: say so plainly,
      // before taking the lock (the collector's installer used to stop on "go: command not found";
      // KEDA's and the images' went on to take the lock and failed later).
      it(`${name} stops with a clear message when Go is missing`, function () {
        // A PATH of /usr/bin:/bin must hide Go, or this would start a real build.
        if (existsSync('/usr/bin/go') || existsSync('/bin/go')) this.skip();
        const cache = mkdtempSync(join(tmpdir(), 'records-tools-cache-'));
        try {
          const run = spawnSync(`scripts/${name}`, name === 'install-go-image' ? ['metrics-server'] : [], {
            env: { ...process.env, PATH: '/usr/bin:/bin', RECORDS_TOOLS_CACHE: cache },
            encoding: 'utf8',
            timeout: 15_000,
          });
          expect(run.status).to.equal(1);
          expect(run.stderr).to.contain(`${name}: Go is needed`);
          expect(readdirSync(cache), 'nothing built or locked').to.deep.equal([]);
        } finally {
          rmSync(cache, { recursive: true, force: true });
        }
      });
    }
  }

  it('make check, make cluster-test and make argocd-test run under one lock: the tier takes it and runs each step without its descriptor', function () {
    // A command that kept descriptor 9 after the tier ended (a leaked server) would keep every later run waiting.
    const tier = readFileSync('scripts/tier', 'utf8');
    expect(tier).to.match(/^\s*\[ "\$tier" = test \] \|\| hold_lock make-check$/m).and.to.match(/^\s*run_and_go_on --tree "\$@" 9<&- \|\| status=\$\?$/m);
    expect(tier).to.match(/^--locked\)\n(\s*#.*\n)*\s*hold_lock make-check\n\s*run_and_go_on --tree "\$\{@:2\}" 9<&-$/m);
    const makefile = readFileSync('Makefile', 'utf8');
    for (const target of ['cluster-test', 'argocd-test']) expect(makefile, target).to.match(new RegExp(`^${target}:.*\\n\\tscripts/tier --locked scripts/with-cluster `, 'm'));
  });

  it("a TERM sent to the tier alone reaches its step's command and what that started, and the tier keeps make check's lock until they have ended (it ran the step in the foreground: the tier ended at once and let the lock go, the step running on)", async function () {
    const cache = mkdtempSync(join(tmpdir(), 'records-tools-cache-'));
    const [cleaning, release, cleaned] = ['cleaning', 'release', 'cleaned'].map((name) => join(cache, name)) as [string, string, string];
    let below: number | undefined;
    // The step: a command that cleans up after a TERM until the test releases it, and a process it started.
    const command = `trap 'touch ${cleaning}; until [ -e ${release} ]; do sleep 0.05; done; touch ${cleaned}; exit 0' TERM; sleep 600 & echo "below $!"; wait`;
    const tier = spawn('scripts/tier', ['--locked', 'bash', '-c', command], { env: { ...process.env, RECORDS_TOOLS_CACHE: cache }, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const exited = new Promise<{ code: number | null; cleanedFirst: boolean }>((resolve) => tier.once('exit', (code) => resolve({ code, cleanedFirst: existsSync(cleaned) })));
      below = Number(await new Promise<string>((resolve) => tier.stdout.on('data', (chunk) => /below (\d+)/.test(String(chunk)) && resolve(/below (\d+)/.exec(String(chunk))?.[1] as string))));
      tier.kill('SIGTERM');
      await waitFor('the step to clean up', async () => existsSync(cleaning));
      const lock = join(cache, '.make-check.lock');
      expect(spawnSync('flock', ['-n', lock, 'true']).status, 'the lock, while the step cleans up').to.equal(1);
      writeFileSync(release, '');
      const ended = await settledWithin(exited, 15_000);
      expect(ended, 'the tier, after its step').to.deep.equal({ code: 143, cleanedFirst: true });
      expect(running(below), 'what the step started').to.equal(false);
      expect(spawnSync('flock', ['-n', lock, 'true']).status, 'the lock, once the tier ended').to.equal(0);
    } finally {
      if (tier.exitCode === null) tier.kill('SIGKILL');
      if (below && running(below)) process.kill(below, 'SIGKILL');
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it('hold_lock (lock_tools_cache\'s and make check\'s) says a second run waits, lets it go on once the first exits, is not kept by a server the first started, and is one per script', async function () {
    const cache = mkdtempSync(join(tmpdir(), 'records-tools-cache-'));
    let outlived: number | undefined;
    const runs: ChildProcess[] = [];
    try {
      const env = { ...process.env, RECORDS_TOOLS_CACHE: cache };
      // The first run starts a server that outlives it (start_process), as a leaked one would.
      const first = spawn('bash', ['-c', `. scripts/lib.sh && lock_tools_cache demo && dir=${cache} && start_process sleeper sleep 300 && cat "$dir/sleeper.pid" && read -r _`], { env, stdio: ['pipe', 'pipe', 'inherit'] });
      runs.push(first);
      outlived = Number(await new Promise<string>((resolve) => first.stdout.once('data', (chunk) => resolve(String(chunk).trim()))));
      const waiting = spawn('bash', ['-c', '. scripts/lib.sh && hold_lock demo && echo mine'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      runs.push(waiting);
      let said = '';
      waiting.stderr.on('data', (chunk) => (said += chunk));
      let took = false;
      waiting.stdout.on('data', () => (took = true));
      await waitFor('the second run to say it waits', async () => said.includes('waiting for'), 10_000, 50);
      expect(said).to.contain(`${cache}/.demo.lock: another run on this machine holds it`);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(took, 'the second run went on while the first held the lock').to.equal(false);
      first.stdin.end();
      const status = await settledWithin(new Promise((resolve) => waiting.once('exit', resolve)), 10_000);
      expect(status, 'the second run once the first exited, its server still running').to.equal(0);
      expect(took).to.equal(true);
      // One lock per script: a second would silently replace the first on descriptor 9.
      const twice = spawnSync('bash', ['-c', '. scripts/lib.sh && hold_lock demo && hold_lock other'], { env, encoding: 'utf8' });
      expect(twice.status).to.equal(1);
      expect(twice.stderr).to.contain('hold_lock other: this script holds demo already');
    } finally {
      if (outlived) process.kill(outlived);
      for (const run of runs) if (run.exitCode === null) run.kill('SIGKILL');
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
