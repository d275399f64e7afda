import { readFileSync } from 'node:fs';

/** True while the process exists and has not exited (a zombie, not yet reaped, counts as ended). */
export function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
