import { execFileSync, execSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * The release before migration 0005_index_fragments (main at d64ef9b, named in
 * previous-release.commit, which scripts/install-previous-image builds the image of), checked out
 * from this repository's history into a temporary directory to run beside this checkout: the
 * rolling upgrade test serves both against one database. It shares this checkout's node_modules
 * (the dependencies did not change between them).
 */
export const PREVIOUS_RELEASE = readFileSync(new URL('./previous-release.commit', import.meta.url), 'utf8').trim();

function hasCommit(): boolean {
  try {
    execFileSync('git', ['cat-file', '-e', `${PREVIOUS_RELEASE}^{commit}`], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

/** `paths` of the previous release in a new temporary directory (`root`). */
export function extractPreviousRelease(paths: string[]): { root: string; remove(): void } {
  // A shallow clone lacks it: fetch that one commit from where this clone came from.
  if (!hasCommit()) execFileSync('git', ['fetch', '--quiet', '--depth=1', 'origin', PREVIOUS_RELEASE], { stdio: 'pipe' });
  const root = mkdtempSync(join(tmpdir(), 'records-previous-'));
  execSync(`git archive ${PREVIOUS_RELEASE} ${paths.join(' ')} | tar -x -C '${root}'`, { stdio: 'pipe' });
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}

export function checkOutPreviousRelease(): { root: string; remove(): void } {
  const checkout = extractPreviousRelease(['service', 'package.json', 'tsconfig.json']);
  symlinkSync(resolve('node_modules'), join(checkout.root, 'node_modules'));
  return checkout;
}

/** `records migrate` of the checkout at `root`. */
export function migrateWith(root: string, databaseUrl: string): string {
  return execFileSync(process.execPath, ['--import', 'tsx', 'service/src/main.ts', 'migrate'], { cwd: root, env: { ...process.env, DATABASE_URL: databaseUrl }, encoding: 'utf8' });
}
