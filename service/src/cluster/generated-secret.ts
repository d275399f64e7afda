import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { JsonResponse } from '../clients/json-request.js';
import { callKubernetes, type KubernetesApi } from '../clients/kubernetes.js';

/**
 * Creates a Secret of generated values once, and only adds missing keys afterwards. It runs as the
 * chart's pre-install/pre-upgrade hook (Argo CD: PreSync), so the values are made in the cluster:
 * stable across upgrades and restarts, never in Git or release values, and the same under Argo CD,
 * where Helm's `lookup` sees no cluster and a template-time random value would change every render.
 */

export type GeneratedKey = 'signing-key.pem' | 'mariadb-password' | 'mariadb-root-password';
export const GENERATED_KEYS: readonly GeneratedKey[] = ['signing-key.pem', 'mariadb-password', 'mariadb-root-password'];

/** Alphanumeric, so a password is safe in a URL, a shell and MariaDB's option files alike. */
function password(length = 32): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  // 248 is the largest multiple of 62 below 256: rejecting bytes above it keeps the draw uniform.
  let out = '';
  while (out.length < length) for (const byte of randomBytes(length)) if (byte < 248 && out.length < length) out += alphabet[byte % 62];
  return out;
}

function generate(key: GeneratedKey): string {
  if (key === 'signing-key.pem') {
    return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  }
  return password();
}

const call = callKubernetes;

function failed(what: string, response: JsonResponse): Error {
  const message = response.json?.message ?? JSON.stringify(response.json).slice(0, 300);
  return new Error(`${what}: HTTP ${response.status}: ${message}`);
}

export type EnsureResult = { created: boolean; added: GeneratedKey[] };

/** Makes Secret `name` hold every key in `keys`, generating only the missing ones. */
export async function ensureGeneratedSecret(
  api: KubernetesApi,
  { namespace, name, keys, labels = {} }: { namespace: string; name: string; keys: readonly GeneratedKey[]; labels?: Record<string, string> },
): Promise<EnsureResult> {
  const collection = `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`;
  const path = `${collection}/${encodeURIComponent(name)}`;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const current = await call(api, 'GET', path);
    if (current.status === 404) {
      const data = Object.fromEntries(keys.map((key) => [key, Buffer.from(generate(key)).toString('base64')]));
      const created = await call(api, 'POST', collection, { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name, namespace, labels }, data });
      if (created.status === 201) return { created: true, added: [...keys] };
      if (created.status === 409) continue; // another run created it first: read it again
      throw failed(`creating Secret ${namespace}/${name}`, created);
    }
    if (current.status !== 200) throw failed(`reading Secret ${namespace}/${name}`, current);
    // Held by a finalizer, it still answers with every key, and vanishes later: pods would then
    // fail to start, and the next run would generate new passwords the data no longer opens with.
    if (current.json?.metadata?.deletionTimestamp) {
      throw new Error(`Secret ${namespace}/${name} is being deleted (since ${current.json.metadata.deletionTimestamp}): let the deletion finish, or restore it from a backup if its values must be kept, then run again`);
    }
    const present = new Set(Object.keys(current.json?.data ?? {}));
    const missing = keys.filter((key) => !present.has(key));
    if (missing.length === 0) return { created: false, added: [] };
    // The resourceVersion makes this a compare-and-swap: a concurrent writer makes it fail with 409.
    const patch = {
      metadata: { resourceVersion: current.json.metadata.resourceVersion },
      data: Object.fromEntries(missing.map((key) => [key, Buffer.from(generate(key)).toString('base64')])),
    };
    const patched = await call(api, 'PATCH', path, patch, 'application/merge-patch+json');
    if (patched.status === 200) return { created: false, added: missing };
    if (patched.status !== 409) throw failed(`adding ${missing.join(', ')} to Secret ${namespace}/${name}`, patched);
  }
  throw new Error(`Secret ${namespace}/${name} kept changing under us; giving up after 3 attempts`);
}
