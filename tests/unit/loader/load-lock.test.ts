import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { expect } from 'chai';
import { lockLoad, thisRun, type LockHolder } from '../../../service/src/loader/load-lock.js';
import { LoadFailed } from '../../../service/src/loader/load.js';

/**
 * The lock of `records load` on files, with the runs it compares named explicitly: what a run can
 * ask about another (its process, on this host, boot and process namespace) and what it must wait
 * out (a lock left unrefreshed). tests/service/load-runs.test.ts runs two real loaders.
 */
describe('one load run per rejects file (load-lock.ts)', function () {
  const dir = mkdtempSync(join(tmpdir(), 'records-lock-'));
  let n = 0;
  const rejectsPath = () => join(dir, `run-${(n += 1)}.rejected.ndjson`);
  const me = thisRun();
  // A process number no process has: above Linux's pid_max limit.
  const goneRun: LockHolder = { ...me, pid: 4_194_305 };
  /** A lock or guard file naming `holder`, last refreshed `ageMs` ago. */
  const writeAt = (path: string, holder: LockHolder | string, ageMs = 0) => {
    writeFileSync(path, typeof holder === 'string' ? holder : JSON.stringify(holder));
    const at = new Date(Date.now() - ageMs);
    utimesSync(path, at, at);
    return path;
  };
  const write = (rejects: string, holder: LockHolder | string, ageMs = 0) => writeAt(`${rejects}.lock`, holder, ageMs);
  const refused = async (rejects: string, options = {}) => {
    const error = await lockLoad(rejects, options).then(() => null, (caught: unknown) => caught);
    expect(error).to.be.instanceOf(LoadFailed);
    return (error as LoadFailed).message;
  };
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a second run while the first holds it, naming it, and takes a lock over whose process is gone', async function () {
    const rejects = rejectsPath();
    const first = await lockLoad(rejects);
    // A second run as another process (this one's parent) sees this one alive.
    expect(await refused(rejects, { me: { ...me, pid: process.ppid } })).to.contain(`another run (process ${process.pid} on ${me.host})`);
    expect(await first.release()).to.equal(null);
    expect(existsSync(`${rejects}.lock`)).to.equal(false);
    write(rejects, goneRun);
    const taken = await lockLoad(rejects);
    expect(JSON.parse(readFileSync(`${rejects}.lock`, 'utf8'))).to.deep.equal(me);
    await taken.release();
  });

  it('takes over a lock naming its own process number: a restarted container whose run is pid 1 again (it refused every restart)', async function () {
    const rejects = rejectsPath();
    const restarted: LockHolder = { ...me, pid: 1 };
    write(rejects, restarted);
    const taken = await lockLoad(rejects, { me: restarted });
    await taken.release();
    expect(existsSync(`${rejects}.lock`)).to.equal(false);
  });

  it('asks no process about a run it cannot see (another host, or another container on this one) until its lock goes unrefreshed, and takes a lock over from before the machine restarted', async function () {
    for (const other of [{ ...me, pidNamespace: 'pid:[1]' }, { ...me, host: `${me.host}-elsewhere` }]) {
      const rejects = rejectsPath();
      // pid 1 of another container would be this run's own number, or a process this run would find alive.
      write(rejects, { ...other, pid: 1 });
      expect(await refused(rejects, { me: { ...me, pid: 1 } })).to.contain('another run (process 1 on');
      write(rejects, { ...other, pid: 1 }, 61_000);
      await (await lockLoad(rejects)).release();
    }
    const rejects = rejectsPath();
    write(rejects, { ...me, pid: 1, boot: 'an-earlier-boot' });
    await (await lockLoad(rejects)).release();
  });

  it('refuses a lock that says nothing sure while fresh (a run creating it), and takes it over once unrefreshed (a run killed creating it blocked every later one)', async function () {
    const rejects = rejectsPath();
    write(rejects, '');
    expect(await refused(rejects)).to.contain('another run is loading into');
    write(rejects, '', 61_000);
    await (await lockLoad(rejects)).release();
  });

  it('asks a process it can see rather than the lock\'s age: a loader stopped for a while (Ctrl-Z) keeps its lock', async function () {
    const rejects = rejectsPath();
    write(rejects, me, 120_000);
    expect(await refused(rejects, { me: { ...me, pid: process.ppid } })).to.contain(`another run (process ${process.pid} on`);
  });

  it('refreshes its lock while it holds it, and leaves alone a lock that is no longer its own', async function () {
    const rejects = rejectsPath();
    const held = await lockLoad(rejects, { refreshMs: 20 });
    const path = `${rejects}.lock`;
    const old = new Date(Date.now() - 30_000);
    utimesSync(path, old, old);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(Date.now() - statSync(path).mtimeMs, 'refreshed').to.be.below(5_000);
    write(rejects, goneRun);
    expect(await held.release()).to.equal(null);
    expect(JSON.parse(readFileSync(path, 'utf8')), "another run's lock").to.deep.equal(goneRun);
  });

  describe('many runs finding one stale lock at once', function () {
    // Live processes of this host for the runs to be: each run finds the others alive.
    let sleepers: ChildProcess[] = [];
    before(() => {
      sleepers = Array.from({ length: 4 }, () => spawn('sleep', ['300'], { stdio: 'ignore' }));
    });
    after(() => {
      for (const sleeper of sleepers) sleeper.kill();
    });

    /** Four runs at once on a stale lock, 300 times (`before` sets each try up): how many held it each time. */
    const race = async (before: (lock: string) => void) => {
      const holders: number[] = [];
      for (let trial = 0; trial < 300; trial += 1) {
        const rejects = rejectsPath();
        before(write(rejects, goneRun));
        const runs = sleepers.map((sleeper) => ({ ...me, pid: sleeper.pid as number }));
        const settled = await Promise.allSettled(runs.map((run) => lockLoad(rejects, { me: run })));
        const taken = settled.flatMap((outcome, index) => (outcome.status === 'fulfilled' ? [{ lock: outcome.value, run: runs[index] }] : []));
        holders.push(taken.length);
        for (const outcome of settled) if (outcome.status === 'rejected') expect(outcome.reason).to.be.instanceOf(LoadFailed);
        if (taken.length === 1) expect(JSON.parse(readFileSync(`${rejects}.lock`, 'utf8')), 'the lock names its holder').to.deep.equal(taken[0]!.run);
        for (const { lock } of taken) await lock.release();
        expect(readdirSync(dir).filter((name) => name.startsWith(`${basename(rejects)}.lock.takeover`)), 'guards left').to.deep.equal([]);
      }
      return holders.filter((count) => count !== 1);
    };

    it('lets exactly one of four take it, every time (it moved the lock aside and put back what was not the stale one: a third run\'s lock was lost in 16 % of tries, and two loaded)', async function () {
      expect(await race(() => {}), 'tries without exactly one holder').to.deep.equal([]);
    });

    it('lets exactly one of four take it past a guard a run was killed holding, and removes that guard (two removing it at once both went on: two loaded)', async function () {
      const killedHolding = (lock: string) => writeAt(`${lock}.takeover.0`, goneRun, 61_000);
      expect(await race(killedHolding), 'tries without exactly one holder').to.deep.equal([]);
    });

    it('refuses while another run is taking over (its guard is fresh), and removes a guard a run was killed holding once unrefreshed', async function () {
      const rejects = rejectsPath();
      const lock = write(rejects, goneRun);
      const taking = { ...me, pid: sleepers[0]!.pid as number };
      writeAt(`${lock}.takeover.0`, taking);
      expect(await refused(rejects)).to.contain(`another run (process ${taking.pid} on`);
      expect(JSON.parse(readFileSync(lock, 'utf8')), 'the stale lock left for that run').to.deep.equal(goneRun);
      writeAt(`${lock}.takeover.0`, taking, 61_000);
      const taken = await lockLoad(rejects);
      expect(JSON.parse(readFileSync(lock, 'utf8'))).to.deep.equal(me);
      expect(existsSync(`${lock}.takeover.0`)).to.equal(false);
      await taken.release();
    });
  });
});
