import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { settledWithin } from '../support/wait.js';

/**
 * The test cluster changes the machine while it runs (the kubelet's sysctls, cgroups, mounts,
 * network namespaces, processes): after a run that failed or was interrupted with Ctrl-C, all of it
 * is as it was (scripts/host-state compare), also after a TERM sent to the wrapper alone. make
 * check also compares around its own passing run.
 * Needs RECORDS_IMAGE_ARCHIVE (scripts/tier builds the image once).
 */
describe('the test cluster leaves the machine as it found it', function () {
  this.timeout(600_000);
  let dir = '';
  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'records-host-'));
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  const snapshot = () => {
    const file = join(dir, 'before');
    const result = spawnSync('scripts/host-state', ['snapshot', file], { encoding: 'utf8' });
    expect(result.status, result.stderr).to.equal(0);
    return file;
  };
  const compare = (file: string) => spawnSync('scripts/host-state', ['compare', file], { encoding: 'utf8' });
  // A pod that really runs: its sandbox, container, cgroups and network namespace exist.
  const runPod = 'kubectl run sleeper --image registry.k8s.io/pause:3.10 --restart Never >/dev/null && kubectl wait --for condition=Ready pod/sleeper --timeout 120s >/dev/null';

  it('counts a cgroup made since the snapshot, not one another process removed meanwhile (make check failed when a job of the machine ended during it)', function () {
    const cgroup = `/sys/fs/cgroup/pids/records-host-check-${process.pid}`;
    try {
      mkdirSync(cgroup);
      const withIt = snapshot();
      rmdirSync(cgroup);
      const gone = compare(withIt);
      expect(gone.status, `gone since: ${gone.stderr}`).to.equal(0);
      const without = snapshot();
      mkdirSync(cgroup);
      const added = compare(without);
      expect(added.status, 'made since').to.equal(1);
      expect(added.stderr).to.contain(`+${cgroup}`);
    } finally {
      // A cgroup is removed with rmdir (its files go with it), also after a failure.
      if (existsSync(cgroup)) rmdirSync(cgroup);
    }
  });

  it('after a run whose command failed', function () {
    const before = snapshot();
    const run = spawnSync('scripts/with-cluster', ['bash', '-c', `${runPod} && exit 3`], { encoding: 'utf8' });
    expect(run.status, run.stderr).to.equal(3);
    const after = compare(before);
    expect(after.status, after.stderr).to.equal(0);
  });

  /** The interrupted run, while it may still be running: stopped the way the test stops it should the test fail first. */
  let interrupted: { pid: number; exited: Promise<number | null> } | null = null;
  afterEach(async function () {
    const run = interrupted;
    interrupted = null;
    if (!run) return;
    // Still running (the test failed or timed out before its Ctrl-C): SIGINT lets with-cluster's traps restore the machine.
    try {
      process.kill(-run.pid, 'SIGINT');
    } catch {
      return; // the group is gone: it ended by itself
    }
    await run.exited;
  });

  /** Starts with-cluster in its own process group around a pod that runs, and waits for the pod. */
  async function runWithPod() {
    const run = spawn('scripts/with-cluster', ['bash', '-c', `${runPod} && echo running && sleep 600`], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    run.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => run.on('close', resolve));
    interrupted = { pid: run.pid as number, exited };
    await new Promise<void>((resolve, reject) => {
      run.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('running') && resolve());
      run.on('close', () => reject(new Error(`the run ended before its pod ran:\n${stderr}`)));
    });
    return { pid: run.pid!, exited, output: () => stderr.slice(-3000) };
  }

  it('after Ctrl-C while a pod runs', async function () {
    const before = snapshot();
    const run = await runWithPod();
    // Ctrl-C is SIGINT to the terminal's foreground process group: here the run's own group.
    process.kill(-run.pid, 'SIGINT');
    const code = await run.exited;
    interrupted = null;
    expect(code).to.not.equal(0);
    const after = compare(before);
    expect(after.status, `${after.stderr}\nthe run's output:\n${run.output()}`).to.equal(0);
  });

  it('after a TERM sent to with-cluster alone while a pod runs (a supervisor stopping the job)', async function () {
    const before = snapshot();
    const run = await runWithPod();
    // To the wrapper's PID only: it passes the TERM on to the command inside the namespaces, which
    // stops the node, then puts the machine back. Before, it waited for the command to end by itself.
    process.kill(run.pid, 'SIGTERM');
    const code = await settledWithin(run.exited, 180_000);
    expect(code, `with-cluster still ran 180 s after the TERM:\n${run.output()}`).to.equal(143);
    interrupted = null;
    const after = compare(before);
    expect(after.status, `${after.stderr}\nthe run's output:\n${run.output()}`).to.equal(0);
  });
});
