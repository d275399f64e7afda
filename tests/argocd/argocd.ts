import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { kubectl, must } from '../cluster/cluster.js';
import type { K8sObject } from '../support/tools.js';

/**
 * The Argo CD that scripts/with-argocd started against the test control plane: the repositories
 * its git daemon serves, and the Applications its controller reconciles.
 */

const gitRoot = () => required('ARGOCD_GIT_ROOT');
const gitUrl = () => required('ARGOCD_GIT_URL');

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this suite through scripts/with-argocd (make argocd-test)`);
  return value;
}

const git = (cwd: string, args: string[]) =>
  execFileSync('git', ['-c', 'user.name=records test', '-c', 'user.email=test@records.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8' }).trim();

/**
 * A repository on the test's git daemon: a working copy the test commits in, pushed to the bare
 * repository the daemon serves as git://127.0.0.1:PORT/NAME.git.
 */
export class Repository {
  readonly url: string;
  private readonly bare: string;
  readonly work: string;

  constructor(name: string) {
    this.url = `${gitUrl()}/${name}.git`;
    this.bare = join(gitRoot(), `${name}.git`);
    // Under scripts/with-argocd's directory, which it removes even when the run is interrupted.
    this.work = mkdtempSync(join(process.env.ARGOCD_LOG_DIR ?? tmpdir(), `records-${name}-`));
    git(this.work, ['init', '--quiet', '--initial-branch', 'main']);
    execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch', 'main', this.bare]);
  }

  write(path: string, content: string): void {
    mkdirSync(dirname(join(this.work, path)), { recursive: true });
    writeFileSync(join(this.work, path), content);
  }

  read = (path: string) => readFileSync(join(this.work, path), 'utf8');

  remove(path: string): void {
    rmSync(join(this.work, path));
  }

  /** Commits everything in the working copy, pushes main, returns the commit's SHA. */
  commit(message: string): string {
    git(this.work, ['add', '--all']);
    git(this.work, ['commit', '--quiet', '--allow-empty', '-m', message]);
    git(this.work, ['push', '--quiet', '--force', this.bare, 'main']);
    return git(this.work, ['rev-parse', 'HEAD']);
  }

  tag(name: string, sha: string): void {
    git(this.work, ['tag', '--force', name, sha]);
    git(this.work, ['push', '--quiet', '--force', this.bare, `refs/tags/${name}`]);
  }

  dispose(): void {
    rmSync(this.work, { recursive: true, force: true });
  }
}

/** A repository holding this working tree as it is on disk: tracked and new files, not ignored ones. */
export function repositoryOfWorkingTree(name: string): Repository {
  const repository = new Repository(name);
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const file of files) {
    if (!existsSync(file)) continue; // deleted in the working tree, not yet committed
    mkdirSync(dirname(join(repository.work, file)), { recursive: true });
    copyFileSync(file, join(repository.work, file));
  }
  return repository;
}

/**
 * Objects as a YAML stream Argo CD reads as written. YAML 1.1 rules: Argo CD's parser takes a plain
 * `off` or `on` for a boolean, so such strings are quoted.
 */
export const asYaml = (objects: K8sObject[]) => objects.map((object) => stringify(object, { version: '1.1', lineWidth: 0 })).join('---\n');

/** An object as the API server returns it, with the metadata the server sets. */
export type LiveObject = K8sObject & {
  metadata: K8sObject['metadata'] & { creationTimestamp?: string; deletionTimestamp?: string; ownerReferences?: Array<{ kind: string; name: string }> };
};

export type Application = LiveObject & {
  status?: {
    sync?: { status?: string; revision?: string; revisions?: string[] };
    health?: { status?: string; message?: string };
    conditions?: Array<{ type: string; message: string }>;
    operationState?: {
      phase?: string;
      message?: string;
      startedAt?: string;
      finishedAt?: string;
      syncResult?: { revision?: string; resources?: Array<{ kind: string; name: string; namespace?: string; status?: string; message?: string; hookType?: string; hookPhase?: string; syncPhase?: string }> };
    };
    history?: Array<{ id: number; revision?: string; revisions?: string[]; deployStartedAt?: string; deployedAt: string }>;
    resources?: Array<{ kind: string; name: string; namespace?: string; status?: string; health?: { status?: string; message?: string } }>;
  };
};

export function applications(): Application[] {
  return JSON.parse(must(kubectl(['get', 'applications.argoproj.io', '-n', 'argocd', '-o', 'json']), 'listing Applications')).items;
}

export const isConverged = (app: Application) => app.status?.sync?.status === 'Synced' && app.status?.health?.status === 'Healthy';

/** One line per Application: sync, health, and what holds it back. For failure messages. */
function describeApplications(apps: Application[]): string {
  return apps
    .map((app) => {
      const status = app.status ?? {};
      const unhealthy = (status.resources ?? [])
        .filter((resource) => resource.status !== 'Synced' || (resource.health && resource.health.status !== 'Healthy'))
        .map((resource) => `${resource.kind}/${resource.name}: ${resource.status} ${resource.health?.status ?? ''} ${resource.health?.message ?? ''}`.trim());
      return [
        `${app.metadata.name}: ${status.sync?.status ?? '-'} ${status.health?.status ?? '-'} ${status.health?.message ?? ''}`,
        ...(status.conditions ?? []).map((condition) => `  condition ${condition.type}: ${condition.message}`),
        status.operationState ? `  operation ${status.operationState.phase}: ${status.operationState.message ?? ''}` : '',
        ...unhealthy.map((line) => `  ${line}`),
      ]
        .filter(Boolean)
        .join('\n');
    })
    .join('\n');
}

/**
 * Polls until `done` holds, calling `meanwhile` on each round (the stand-in controllers); throws
 * with the Applications' state when `seconds` pass.
 */
export async function eventually<T>(what: string, seconds: number, done: () => T | undefined | false, meanwhile: () => void = () => {}): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    meanwhile();
    const result = done();
    if (result) return result;
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds}s waiting for ${what}; Applications:\n${describeApplications(applications())}`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

export const waveOf = (app: K8sObject) => Number(app.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? 0);
