import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * Lowers the calling thread's CPU priority to `nice` (0-19), never raising it: a process started
 * at a higher nice keeps it (raising priority needs a privilege). On Linux a nice value belongs to
 * a thread, named by its id (/proc/thread-self); elsewhere, where there is no such thing, nothing
 * changes.
 */
export function lowerThreadPriority(nice: number): void {
  if (nice === 0) return;
  let tid: number;
  try {
    tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return; // not Linux
  }
  if (nice > getPriority(tid)) setPriority(tid, nice);
}
