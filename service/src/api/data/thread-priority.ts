import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Lowers the calling thread's CPU priority to `nice` (0-19). On Linux a nice value belongs to a
 * thread, named by its id (/proc/thread-self); elsewhere, where there is no such thing, nothing
 * changes. Raising nice needs no privilege.
 */
export function lowerThreadPriority(nice: number): void {
  if (nice === 0) return;
  let tid: number;
  try {
    tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return; // not Linux
  }
  setPriority(tid, nice);
}
