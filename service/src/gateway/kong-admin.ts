import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { KongAdmin } from './jwks-sync.js';

/**
 * Kong's Admin API as the sidecar reaches it: on the pod's loopback, where the Kong chart keeps it
 * (127.0.0.1:8444, TLS with Kong's self-signed certificate, never a Service). Certificate checks are
 * skipped for loopback only; any other address is verified as usual.
 */
export function createKongAdmin(baseUrl: string, timeoutMs = 10_000): KongAdmin {
  const base = new URL(baseUrl);
  const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(base.hostname);

  function call(method: string, path: string, body?: string): Promise<{ status: number; json: any }> {
    const url = new URL(path, base);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        url,
        {
          method,
          timeout: timeoutMs,
          rejectUnauthorized: !loopback,
          headers: body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            let json: unknown = null;
            try {
              json = text ? JSON.parse(text) : null;
            } catch {
              json = { message: text.slice(0, 300) };
            }
            resolve({ status: res.statusCode ?? 0, json });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${url.pathname}: no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  async function configurationHash(): Promise<string> {
    const status = await call('GET', '/status');
    if (status.status !== 200) throw new Error(`GET /status: HTTP ${status.status}`);
    return String(status.json?.configuration_hash ?? '');
  }

  return {
    configurationHash,
    async load(config: string): Promise<string> {
      const loaded = await call('POST', '/config', JSON.stringify({ config }));
      if (loaded.status !== 201 && loaded.status !== 200) {
        throw new Error(`POST /config: HTTP ${loaded.status}: ${JSON.stringify(loaded.json).slice(0, 500)}`);
      }
      return configurationHash();
    },
  };
}
