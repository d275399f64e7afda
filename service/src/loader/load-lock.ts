import { readFileSync, readlinkSync } from 'node:fs';
import { readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { LoadFailed } from './load.js';

/**
 * One run at a time per rejects file: two runs of a load would both truncate and append to it, and
 * write its state over each other's (a re-run could then skip chunks neither had sent). Held by
 * `<rejects file>.lock`, created exclusively and naming its run, and refreshed while the run lives.
 * A lock whose run is gone is taken over: at once where this run can ask whether that process
 * lives (the same host and process namespace; a lock from before a reboot is gone), else once it
 * went unrefreshed for `staleMs` (a run in another container, or on another machine sharing the folder).
 */

/** A run: its process, and where that process number means something. */
export type LockHolder = { pid: number; host: string; boot: string | null; pidNamespace: string | null };

const readOrNull = (read: () => string) => {
  try {
    return read().trim();
  } catch {
    return null; // not Linux, or /proc not mounted
  }
};

/** This process, as a lock names it. */
export function thisRun(): LockHolder {
  return {
    pid: process.pid,
    host: hostname(),
    boot: readOrNull(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8')),
    pidNamespace: readOrNull(() => readlinkSync('/proc/self/ns/pid')),
  };
}

type Found = { holder: LockHolder | null; refreshedAt: number };

/** The lock's holder (null: the file says nothing sure, as one a run was killed creating) and when it was last refreshed; 'gone' when there is none. */
async function lockAt(path: string): Promise<Found | 'gone'> {
  let text: string;
  let refreshedAt: number;
  try {
    [text, refreshedAt] = await Promise.all([readFile(path, 'utf8'), stat(path).then((found) => found.mtimeMs)]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw new LoadFailed(`cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    const holder = JSON.parse(text) as Partial<LockHolder>;
    const valid = Number.isSafeInteger(holder.pid) && typeof holder.host === 'string';
    return { holder: valid ? { pid: holder.pid as number, host: holder.host as string, boot: holder.boot ?? null, pidNamespace: holder.pidNamespace ?? null } : null, refreshedAt };
  } catch {
    return { holder: null, refreshedAt };
  }
}

const sameRun = (a: LockHolder, b: LockHolder) => a.pid === b.pid && a.host === b.host && a.boot === b.boot && a.pidNamespace === b.pidNamespace;

/**
 * Whether the run that holds a lock is gone, as far as `me` can tell: its process is asked where
 * that means something (a loader stopped with Ctrl-Z for a while is still there), and a lock is
 * judged by its refreshes only where it does not.
 */
function isGone({ holder, refreshedAt }: Found, me: LockHolder, now: number, staleMs: number): boolean {
  const askable = holder !== null && holder.host === me.host && holder.pidNamespace === me.pidNamespace;
  if (!askable) return now - refreshedAt > staleMs;
  if (holder.boot !== me.boot) return true; // the machine restarted since
  // This run's own number: its exclusive create just failed, so the holder is an earlier process
  // (a container's run restarts as pid 1 again).
  if (holder.pid === me.pid) return true;
  try {
    process.kill(holder.pid, 0); // signal 0: only asks whether the process exists
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function heldBy(path: string, rejectsPath: string, holder: LockHolder | null, staleMs: number): LoadFailed {
  const who = holder === null ? 'another run' : `another run (process ${holder.pid} on ${holder.host})`;
  return new LoadFailed(`${who} is loading into ${rejectsPath}; wait for it, or give this one another --rejects (the lock of a run that is gone is taken over, that of a run elsewhere once ${Math.round(staleMs / 1000)} s unrefreshed; if no run is loading there, delete ${path})`);
}

export type LoadLock = {
  /** Removes the lock if it is still this run's; what went wrong doing so, if anything (the load's outcome stands). */
  release(): Promise<string | null>;
};

export type LockOptions = { me?: LockHolder; refreshMs?: number; staleMs?: number };

/** Creates `file` naming `me` if there is none; false if there is. */
async function create(file: string, me: LockHolder): Promise<boolean> {
  try {
    await writeFile(file, JSON.stringify(me), { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new LoadFailed(`cannot create ${file} beside the rejects file (--rejects puts both elsewhere): ${(error as Error).message}`);
  }
}

const sameLock = (a: Found, b: Found) => a.refreshedAt === b.refreshedAt && (a.holder === null || b.holder === null ? a.holder === b.holder : sameRun(a.holder, b.holder));

/** Removes a lock or guard this run judged or holds; that it cannot is the load's failure, named. */
async function remove(file: string): Promise<void> {
  try {
    await rm(file, { force: true });
  } catch (error) {
    throw new LoadFailed(`cannot remove ${file}: ${(error as Error).message}`);
  }
}

/** Tries on a guard whose holder finished meanwhile, before refusing. */
const GUARD_TRIES = 20;

/**
 * Removes the lock `found` of a gone run, unless another run got there first. Runs take turns
 * through a guard, `<lock>.takeover.<n>`, created exclusively, and the run holding one removes the
 * lock only if it is still the one found gone; no run removes a lock or a guard it has not judged
 * or made, so of any number of runs finding one stale lock, one takes it (moving the lock aside and
 * putting it back let a third run's lock be lost, and two runs load). A guard left by a run killed
 * holding it is passed over once `staleMs` old, for the next number, and removed once the stale
 * lock is: a guard's name is freed only after the lock it guarded is gone for good.
 */
async function removeGone(path: string, rejectsPath: string, found: Found, me: LockHolder, staleMs: number): Promise<void> {
  const passed: string[] = [];
  let guard: string | null = null;
  for (let tries = 0; guard === null; ) {
    const candidate = `${path}.takeover.${passed.length}`;
    if (await create(candidate, me)) guard = candidate;
    else {
      const other = await lockAt(candidate);
      if (other === 'gone') {
        tries += 1;
        if (tries >= GUARD_TRIES) throw heldBy(path, rejectsPath, null, staleMs);
      } else if (Date.now() - other.refreshedAt <= staleMs) throw heldBy(path, rejectsPath, other.holder, staleMs);
      else passed.push(candidate);
    }
  }
  try {
    const now = await lockAt(path);
    if (now !== 'gone' && sameLock(now, found)) await remove(path);
    for (const stale of passed) await remove(stale);
  } finally {
    await remove(guard);
  }
}

/** Takes the lock, or refuses the run while another holds it. */
export async function lockLoad(rejectsPath: string, { me = thisRun(), refreshMs = 10_000, staleMs = 60_000 }: LockOptions = {}): Promise<LoadLock> {
  const path = `${rejectsPath}.lock`;
  if (!(await create(path, me))) {
    const found = await lockAt(path);
    if (found !== 'gone') {
      if (!isGone(found, me, Date.now(), staleMs)) throw heldBy(path, rejectsPath, found.holder, staleMs);
      await removeGone(path, rejectsPath, found, me, staleMs);
    }
    // Another run may have created it since: then that run loads.
    if (!(await create(path, me))) {
      const holder = await lockAt(path);
      throw heldBy(path, rejectsPath, holder === 'gone' ? null : holder.holder, staleMs);
    }
  }

  // Refreshed while the run lives, also while it waits out a Retry-After: a lock left unrefreshed is a gone run's.
  const refresh = setInterval(() => {
    const at = new Date();
    utimes(path, at, at).catch(() => {});
  }, refreshMs);
  refresh.unref();
  return {
    async release() {
      clearInterval(refresh);
      try {
        // Only its own: a lock taken over after this run was thought gone is the other run's now.
        const found = await lockAt(path);
        if (found !== 'gone' && found.holder !== null && sameRun(found.holder, me)) await rm(path, { force: true });
        return null;
      } catch (error) {
        return `could not remove ${path} (${(error as Error).message}); delete it before the next run`;
      }
    },
  };
}
