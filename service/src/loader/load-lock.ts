import { hostname } from 'node:os';
import { link, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { LoadFailed } from './load.js';

/**
 * One run at a time per rejects file: two runs of a load would both truncate and append to it, and
 * write its state over each other's (a re-run could then skip chunks neither had sent). Held by
 * `<rejects file>.lock`, created exclusively and naming its run; a lock whose run is gone (killed,
 * or the machine restarted) is taken over by the next run on the same host.
 */

type Holder = { pid: number; host: string };

/** The run that holds the lock, or null when the file is gone or says nothing (a run creating it, or one killed while it did). */
async function holderOf(path: string): Promise<Holder | null | 'gone'> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw new LoadFailed(`cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    const holder = JSON.parse(text) as Partial<Holder>;
    return Number.isSafeInteger(holder.pid) && typeof holder.host === 'string' ? { pid: holder.pid as number, host: holder.host } : null;
  } catch {
    return null;
  }
}

/** Whether the run is gone: only a process on this host can be asked (signal 0 checks without sending anything). */
function isGone(holder: Holder): boolean {
  if (holder.host !== hostname()) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function heldBy(path: string, rejectsPath: string, holder: Holder | null): LoadFailed {
  const who = holder === null ? 'another run' : `another run (process ${holder.pid} on ${holder.host})`;
  return new LoadFailed(`${who} is loading into ${rejectsPath}; wait for it, or give this one another --rejects (if no run is loading there, delete ${path})`);
}

export type LoadLock = { release(): Promise<void> };

/** Takes the lock, or refuses the run while another holds it; `release` removes it once the run stopped. */
export async function lockLoad(rejectsPath: string): Promise<LoadLock> {
  const path = `${rejectsPath}.lock`;
  const me: Holder = { pid: process.pid, host: hostname() };
  const release = async () => {
    // Only its own: a lock taken over after this run was thought gone is the other run's now.
    const holder = await holderOf(path).catch(() => null);
    if (holder !== null && holder !== 'gone' && holder.pid === me.pid && holder.host === me.host) await rm(path, { force: true });
  };
  // Twice at most: a stale lock moved aside frees the name once.
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      await writeFile(path, JSON.stringify(me), { flag: 'wx' });
      return { release };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new LoadFailed(`cannot create ${path}: ${(error as Error).message}`);
    }
    const holder = await holderOf(path);
    if (holder === 'gone') continue;
    if (holder === null || !isGone(holder)) throw heldBy(path, rejectsPath, holder);
    // Moved aside, which only one run can do, then removed if it is still the gone run's: two
    // runs finding the same stale lock cannot both take it, nor remove one just taken.
    const aside = `${path}.${me.pid}`;
    try {
      await rename(path, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new LoadFailed(`cannot take over ${path}: ${(error as Error).message}`);
    }
    const moved = await holderOf(aside);
    if (moved !== 'gone' && (moved === null || moved.pid !== holder.pid || moved.host !== holder.host)) {
      // Another run's lock, taken in between: put back (unless a third took the name meanwhile).
      await link(aside, path).catch(() => {});
      await rm(aside, { force: true });
      throw heldBy(path, rejectsPath, moved);
    }
    await rm(aside, { force: true });
  }
  throw heldBy(path, rejectsPath, null);
}
