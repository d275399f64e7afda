import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { settledWithin, waitFor } from '../support/wait.js';

/**
 * scripts/build-image stopped while buildah builds: it passes a TERM on to buildah, waits for it,
 * and then leaves nothing behind, neither its work directory (buildah's storage, hundreds of MB)
 * nor anything at the archive's path. Its cleanup used to remove the directory while buildah was
 * still writing into it, and both stayed in /tmp.
 */
describe('scripts/build-image stopped midway', function () {
  this.timeout(300_000);
  let dir = '';
  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), 'records-build-stop-'));
  });
  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  before(function () {
    // Warm first, on its own time: the wait for buildah below is for the build, not for these.
    this.timeout(3_600_000);
    for (const script of ['scripts/ensure-packages', 'scripts/install-images']) {
      const result = spawnSync(script, { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
      expect(result.status, `${script}: ${result.stderr}`).to.equal(0);
    }
  });

  const commandLine = (pid: string) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      return []; // gone meanwhile
    }
  };
  /** Where a process runs: its root and working directory (empty once it is gone). */
  const placesOf = (pid: string) => {
    try {
      return [readlinkSync(`/proc/${pid}/root`), readlinkSync(`/proc/${pid}/cwd`)];
    } catch {
      return [];
    }
  };
  const pids = () => readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  const chrootedUnder = (pid: string, dir: string) => placesOf(pid)[0]?.startsWith(`${dir}/`) ?? false;
  /** The PIDs of the processes that use `dir`: named on their command line, or running in or under it (the build's RUN steps, chrooted into buildah's storage). */
  const processesUsing = (dir: string) => pids().filter((pid) => commandLine(pid).some((word) => word.includes(`${dir}/`)) || placesOf(pid).some((path) => path.startsWith(`${dir}/`)));

  for (const [target, signal] of [['the script alone', 'SIGTERM'], ['its process group', 'SIGTERM'], ['its process group', 'SIGINT']] as const) {
    it(`by a ${signal} to ${target}, once buildah builds: status ${signal === 'SIGINT' ? 130 : 143}, buildah gone, nothing left`, async function () {
      const temporary = join(dir, 'tmp');
      const archiveDir = join(dir, 'archive');
      mkdirSync(temporary);
      mkdirSync(archiveDir);
      // TMPDIR of its own: the work directory is made there, so what is left there is what it left.
      const run = spawn('scripts/build-image', [join(archiveDir, 'records.tar')], { detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TMPDIR: temporary } });
      let stderr = '';
      run.stderr.on('data', (chunk) => (stderr += chunk));
      // Its own status: a death by the signal itself would mean its traps, and its cleanup, never ran.
      const exited = new Promise<number | string | null>((resolve) => run.on('exit', (code, killed) => resolve(code ?? killed)));
      try {
        // The Dockerfile's build under way: a RUN step runs, chrooted into buildah's storage.
        await waitFor('a RUN step of buildah bud', async () => pids().some((pid) => chrootedUnder(pid, temporary)), 180_000, 100);
        // Into the step: buildah writing its storage when the signal lands, not starting the step.
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        process.kill(target === 'the script alone' ? (run.pid as number) : -(run.pid as number), signal);
        const status = await settledWithin(exited, 120_000);
        expect(status, stderr).to.equal(signal === 'SIGINT' ? 130 : 143);
        expect(processesUsing(temporary), 'processes still using its work directory').to.deep.equal([]);
        expect(readdirSync(temporary), 'left in TMPDIR').to.deep.equal([]);
        expect(readdirSync(archiveDir), 'left beside the archive').to.deep.equal([]);
      } finally {
        // Should an assertion fail first: the group stopped, whatever it left removed with `dir`.
        try {
          process.kill(-(run.pid as number), 'SIGKILL');
        } catch {
          // already gone
        }
        for (const pid of processesUsing(temporary)) process.kill(Number(pid), 'SIGKILL');
      }
    });
  }
});
