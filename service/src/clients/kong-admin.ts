import { requestJson } from './json-request.js';

export type KongAdmin = {
  /** The hash Kong reports for the configuration it runs (GET /status). */
  configurationHash(): Promise<string>;
  /** Replaces Kong's whole configuration (POST /config); returns the hash Kong then reports. */
  load(config: string): Promise<string>;
};

/**
 * Kong's Admin API as the sidecar reaches it: on the pod's loopback, where the Kong chart keeps it
 * (127.0.0.1:8444, TLS with Kong's self-signed certificate, never a Service). Certificate checks are
 * skipped for loopback only; any other address is verified as usual.
 */
export function createKongAdmin(baseUrl: string, timeoutMs = 10_000): KongAdmin {
  const base = new URL(baseUrl);
  const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(base.hostname);

  const call = (method: string, path: string, config?: string) =>
    requestJson({ method, url: new URL(path, base), body: config === undefined ? undefined : { config }, rejectUnauthorized: !loopback, timeoutMs });

  async function configurationHash(): Promise<string> {
    const status = await call('GET', '/status');
    if (status.status !== 200) throw new Error(`GET /status: HTTP ${status.status}`);
    return String(status.json?.configuration_hash ?? '');
  }

  return {
    configurationHash,
    async load(config: string): Promise<string> {
      const loaded = await call('POST', '/config', config);
      if (loaded.status !== 201 && loaded.status !== 200) {
        throw new Error(`POST /config: HTTP ${loaded.status}: ${JSON.stringify(loaded.json).slice(0, 500)}`);
      }
      return configurationHash();
    },
  };
}
