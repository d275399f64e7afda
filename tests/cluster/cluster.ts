import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseObjects, toolPath, type K8sObject } from '../support/tools.js';
import { crdFiles } from '../../tooling/upstream-mirror.js';

/**
 * The test control plane that scripts/with-cluster started: kubectl and helm against it (its
 * KUBECONFIG and cluster tools come through the environment).
 */

export type Result = { status: number; stdout: string; stderr: string };

export function kubectl(args: string[], input?: string): Result {
  const result = spawnSync('kubectl', args, { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: result.status ?? -1, stdout: result.stdout ?? '', stderr: result.stderr ?? String(result.error ?? '') };
}

/** kubectl in the background (a client loop during an upgrade): its stdout once it exits 0. */
export function spawnKubectl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('kubectl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`kubectl ${args[0]} exited ${code}: ${stderr}`))));
  });
}

export function helm(args: string[]): Result {
  const result = spawnSync(toolPath('helm'), args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: result.status ?? -1, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

export function must(result: Result, what: string): string {
  if (result.status !== 0) throw new Error(`${what} failed (exit ${result.status}):\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** Warnings the API server sent (deprecations, Pod Security, unknown fields): each names its object. */
export const warningsIn = (stderr: string) => stderr.split('\n').filter((line) => /^Warning:/i.test(line.trim()));

/**
 * Objects as kubectl input. JSON, not YAML: kubectl reads YAML 1.1, where a plain `off` or `on` that
 * YAML 1.2 (this project's parser) wrote as a string would turn into a boolean.
 */
export const asKubectlInput = (objects: K8sObject[]) => JSON.stringify(objects.length === 1 ? objects[0] : { apiVersion: 'v1', kind: 'List', items: objects });

/**
 * Waits until every namespace has its `default` ServiceAccount. The controller manager creates it
 * just after the namespace; until then the API server refuses every pod there, dry runs included
 * ("error looking up service account NS/default"). On a machine's first run, with the controller
 * manager still starting, the cluster suite's first dry runs met exactly that.
 */
export function serviceAccountsReady(seconds = 120): void {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const namespaces = must(kubectl(['get', 'namespaces', '-o', 'jsonpath={.items[*].metadata.name}']), 'listing namespaces').trim().split(/\s+/);
    const accounts = must(kubectl(['get', 'serviceaccounts', '--all-namespaces', '--field-selector', 'metadata.name=default', '-o', 'jsonpath={.items[*].metadata.namespace}']), 'listing ServiceAccounts').trim().split(/\s+/);
    const waiting = namespaces.filter((namespace) => !accounts.includes(namespace));
    if (waiting.length === 0) return;
    if (Date.now() > deadline) throw new Error(`no default ServiceAccount after ${seconds} s in ${waiting.join(', ')}`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
  }
}

/** CRDs at the pinned versions (tools/upstream.yaml), applied and established. */
export function installCrds(): string[] {
  const files = crdFiles();
  const crds = files.flatMap((file) => parseObjects(readFileSync(file, 'utf8')).filter((object) => object.kind === 'CustomResourceDefinition'));
  must(kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager', 'records-test', '-f', '-'], asKubectlInput(crds)), 'applying CRDs');
  must(kubectl(['wait', '--for', 'condition=Established', '--timeout', '120s', ...crds.map((crd) => `crd/${crd.metadata.name}`)]), 'waiting for CRDs');
  return crds.map((crd) => crd.metadata.name);
}

/** Server-side dry run with strict field validation: the API server's verdict on each object. */
export function dryRun(objects: K8sObject[], namespace?: string): { problems: string[]; warnings: string[] } {
  const problems: string[] = [];
  const warnings: string[] = [];
  for (const object of objects) {
    const args = ['apply', '--server-side', '--dry-run=server', '--validate=strict', '--field-manager', 'records-test', '-f', '-'];
    if (namespace && !object.metadata.namespace) args.push('-n', namespace);
    const result = kubectl(args, asKubectlInput([object]));
    const where = `${object.kind}/${object.metadata.name}${object.metadata.namespace ?? namespace ? ` in ${object.metadata.namespace ?? namespace}` : ''}`;
    if (result.status !== 0) problems.push(`${where}: ${result.stderr.trim()}`);
    for (const warning of warningsIn(result.stderr)) warnings.push(`${where}: ${warning.trim()}`);
  }
  return { problems, warnings };
}

/** Every object left in `namespace` with `selector`, across all namespaced kinds the server lists. */
export function objectsLeft(namespace: string, selector: string): string[] {
  const kinds = must(kubectl(['api-resources', '--verbs=list', '--namespaced', '-o', 'name']), 'listing kinds').trim().split('\n').filter((kind) => kind && !kind.startsWith('events'));
  const found = must(kubectl(['get', kinds.join(','), '-n', namespace, '-l', selector, '-o', 'name', '--ignore-not-found']), 'listing objects');
  return found.trim().split('\n').filter(Boolean);
}
