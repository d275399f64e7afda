import { requestJson } from './json-request.js';
import { isLoopbackHost } from '../shared/jwks-uri.js';

/** A JWT credential as Kong runs it (the fields of a declarative config's jwt_secrets). */
export type RunningJwtSecret = { key: string; algorithm: string; rsa_public_key: string; secret: string };

export type KongAdmin = {
  /** The hash Kong reports for the configuration it runs (GET /status). */
  configurationHash(): Promise<string>;
  /** The JWT credentials Kong runs for a consumer (GET /consumers/{username}/jwt, every page); none when it has no such consumer. */
  jwtSecrets(username: string): Promise<RunningJwtSecret[]>;
  /** Replaces Kong's whole configuration (POST /config); returns the hash Kong then reports. */
  load(config: string): Promise<string>;
};

/**
 * Kong's Admin API as the sidecar reaches it: on the pod's loopback, where the Kong chart keeps it
 * (127.0.0.1:8444, TLS with Kong's self-signed certificate, never a Service). Certificate checks are
 * skipped for loopback only; any other address is verified as usual.
 */
export function createKongAdmin(baseUrl: string, { timeoutMs = 10_000, pageSize = 1000 }: { timeoutMs?: number; pageSize?: number } = {}): KongAdmin {
  const base = new URL(baseUrl);
  const loopback = isLoopbackHost(base.hostname);

  const call = (method: string, path: string, config?: string) =>
    requestJson({ method, url: new URL(path, base), body: config === undefined ? undefined : { config }, rejectUnauthorized: !loopback, timeoutMs });

  async function configurationHash(): Promise<string> {
    const status = await call('GET', '/status');
    if (status.status !== 200) throw new Error(`GET /status: HTTP ${status.status}`);
    return String(status.json?.configuration_hash ?? '');
  }

  async function jwtSecrets(username: string): Promise<RunningJwtSecret[]> {
    const secrets: RunningJwtSecret[] = [];
    // Kong pages its lists (`next`: the path of the next page, null after the last).
    let next: string | null = `/consumers/${encodeURIComponent(username)}/jwt?size=${pageSize}`;
    while (next !== null) {
      const page = await call('GET', next);
      if (page.status === 404 && secrets.length === 0) return [];
      if (page.status !== 200) throw new Error(`GET ${next}: HTTP ${page.status}`);
      const data = page.json?.data as Array<Partial<RunningJwtSecret>> | undefined;
      if (!Array.isArray(data)) throw new Error(`GET ${next}: no list of credentials`);
      for (const { key, algorithm, rsa_public_key, secret } of data) {
        if (typeof key === 'string' && typeof algorithm === 'string' && typeof rsa_public_key === 'string') secrets.push({ key, algorithm, rsa_public_key, secret: String(secret ?? '') });
      }
      next = typeof page.json?.next === 'string' ? page.json.next : null;
    }
    return secrets;
  }

  return {
    configurationHash,
    jwtSecrets,
    async load(config: string): Promise<string> {
      const loaded = await call('POST', '/config', config);
      if (loaded.status !== 201 && loaded.status !== 200) {
        throw new Error(`POST /config: HTTP ${loaded.status}: ${JSON.stringify(loaded.json).slice(0, 500)}`);
      }
      return configurationHash();
    },
  };
}
