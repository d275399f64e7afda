/**
 * `make deploy-check ENV=production`: fails while the files an environment deploys from, by Argo CD
 * or by `kubectl apply -k k8s/overlays/ENV` (made from the same values by `make k8s-manifests`), still
 * hold a placeholder (docs/gitops.md, "Before the first sync"): the example repository and hosts,
 * the all-zero image digest, a branch where production needs a tag or commit, Kong's example seed keys.
 *
 * With CLUSTER=1 it then checks the cluster of the current kubectl context for the prerequisites
 * of tooling/prerequisites.ts (Secrets, argocd-cm's Application health check, cert-manager, ...).
 *
 * usage: [CLUSTER=1] tsx tooling/deploy-check.ts ENV
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isEnvironment, type Environment } from './environments.js';
import { readEnvironment, seedPath } from './kong-config.js';
import { prerequisitesOf, type Prerequisite } from './prerequisites.js';

const PLACEHOLDERS: Array<[RegExp, string]> = [
  [/github\.com\/records\/records/, 'the example repository URL (github.com/records/records): your fork or mirror'],
  [/ghcr\.io\/records\//, 'the example image repository (ghcr.io/records/...): your registry'],
  [/[a-z0-9.-]*example\.org/, 'an example.org host: your cluster, identity provider or service URL'],
  [/sha256:0{64}/, 'the all-zero image digest: the digest of the release you deploy'],
  [/\b(192\.0\.2|198\.51\.100|203\.0\.113)\.\d+/, 'a documentation address range (RFC 5737): the real CIDR, e.g. your managed Redis\'s subnet'],
  [/"kid":\s*"example-/, 'an example seed key: your identity provider\'s JWKS as it publishes it now (Kong starts from it)'],
];

export function deployFiles(environment: string): string[] {
  const seeds = readEnvironment(environment).issuers.map((issuer) => seedPath(issuer.seed));
  return [
    'argocd/projects.yaml',
    `argocd/root/${environment}.yaml`,
    'argocd/apps/values.yaml',
    `argocd/apps/values-${environment}.yaml`,
    `argocd/values/records/${environment}.yaml`,
    `kong/environments/${environment}.yaml`,
    ...seeds,
    // The kubectl path: what `make k8s-manifests` rendered from the values above.
    `k8s/overlays/${environment}/records.yaml`,
  ];
}

/** Every placeholder left in `files` (path -> text), one line each; empty when ready to deploy. */
export function placeholdersIn(environment: string, files: Record<string, string>): string[] {
  const found: string[] = [];
  for (const [path, text] of Object.entries(files)) {
    text.split('\n').forEach((line, index) => {
      if (/^\s*#/.test(line)) return;
      for (const [pattern, what] of PLACEHOLDERS) if (pattern.test(line)) found.push(`${path}:${index + 1}: ${what}`);
      // Also inside a flow mapping (`keda: { mirror: { ..., targetRevision: main } }`).
      const revision = /(?:^|[\s{,])targetRevision:\s*["']?([^"'\s,}]+)/.exec(line)?.[1];
      // argocd/apps/values.yaml holds the shared default, which values-<env>.yaml overrides.
      if (environment === 'production' && path !== 'argocd/apps/values.yaml' && revision && /^(main|master|HEAD)$/.test(revision)) {
        found.push(`${path}:${index + 1}: production tracks ${revision}: pin a release tag or commit`);
      }
    });
  }
  return found;
}

/** Whether the current kubectl context has `prerequisite` (`kubectl` is the binary to run). */
function present(prerequisite: Prerequisite, kubectl: string): boolean {
  const { secret } = prerequisite;
  const args = secret ? ['get', 'secret', '-n', secret.namespace, secret.name, '-o', 'json'] : prerequisite.kubectl;
  if (!args) return true;
  const result = spawnSync(kubectl, args, { encoding: 'utf8' });
  if (result.status !== 0 || result.stdout.trim() === '') return false;
  if (prerequisite.contains !== undefined && !result.stdout.includes(prerequisite.contains)) return false;
  const data = secret ? ((JSON.parse(result.stdout) as { data?: Record<string, string> }).data ?? {}) : {};
  return (secret?.keys ?? []).every((key) => Boolean(data[key]));
}

/** The prerequisites the current kubectl context lacks, one line each (`kubectl` is the binary to run). */
export function missingPrerequisites(environment: Environment, kubectl: string): string[] {
  return prerequisitesOf(environment)
    .filter((prerequisite) => !present(prerequisite, kubectl))
    .map((prerequisite) => `missing: ${prerequisite.what}\n    ${prerequisite.how}`);
}

function main() {
  const environment = process.argv[2];
  if (!environment || !isEnvironment(environment)) {
    console.error('usage: make deploy-check ENV=staging|production');
    process.exit(2);
  }
  const files = Object.fromEntries(deployFiles(environment).map((path) => [path, readFileSync(path, 'utf8')]));
  const found = placeholdersIn(environment, files);
  for (const line of found) console.error(line);
  if (found.length > 0) {
    console.error(`deploy-check: ${found.length} placeholder(s) left for ${environment} (docs/gitops.md, "Before the first sync")`);
    process.exit(1);
  }
  console.log(`deploy-check: ${environment} has no placeholders left`);
  if (process.env.CLUSTER !== '1') {
    console.log(`Before the first sync the cluster needs (CLUSTER=1 checks the current kubectl context):\n${prerequisitesOf(environment).map((p) => `  - ${p.what}`).join('\n')}`);
    return;
  }
  const missing = missingPrerequisites(environment, process.env.KUBECTL ?? 'kubectl');
  for (const line of missing) console.error(line);
  if (missing.length > 0) {
    console.error(`deploy-check: the cluster lacks ${missing.length} prerequisite(s) of ${environment}`);
    process.exit(1);
  }
  console.log(`deploy-check: the cluster has every prerequisite of ${environment}`);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
