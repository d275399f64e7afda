import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** A JWKS of a few dozen keys takes a few KiB: anything near this is not one. */
const MAX_KEY_SET_BYTES = 256 * 1024;

/**
 * Fetches an issuer's key set (a JWKS), for the API's token checks and kong-sync alike. The whole
 * answer must arrive within `timeoutMs`, headers and body: a peer that sends its headers and then
 * stalls or drips bytes is cut off, where an idle timeout alone would wait on it for good. No
 * redirects (the configured URL is the trusted one), at most `maxBytes` read, and the body must be
 * a JSON object with a `keys` array. node:http rather than fetch, so tracing follows the request.
 */
export function fetchKeySet(uri: string, { timeoutMs, maxBytes = MAX_KEY_SET_BYTES }: { timeoutMs: number; maxBytes?: number }): Promise<{ keys: unknown[] }> {
  const url = new URL(uri);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    // Settles first, then stops the request: whatever the stopped request emits comes too late.
    const fail = (message: string) => {
      reject(new Error(`${uri}: ${message}`));
      req.destroy();
    };
    const req = send(url, { headers: { accept: 'application/json' } }, (res) => {
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) return fail(`HTTP ${status}${status >= 300 && status < 400 ? ' (a redirect, not followed)' : ''}`);
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.byteLength;
        if (size > maxBytes) fail(`larger than ${maxBytes} bytes`);
        else chunks.push(chunk);
      });
      res.on('end', () => {
        try {
          resolve(keySetOf(uri, JSON.parse(Buffer.concat(chunks).toString('utf8'))));
        } catch (error) {
          reject(error);
        }
      });
      // A peer closing mid-answer ends neither the response nor the request.
      res.on('close', () => {
        if (!res.complete) reject(new Error(`${uri}: the answer was cut short`));
      });
    });
    const deadline = setTimeout(() => fail(`no whole answer within ${timeoutMs} ms`), timeoutMs);
    req.on('close', () => clearTimeout(deadline));
    req.on('error', reject);
    req.end();
  });
}

/** The body as a key set; a body without a keys array (an array has Array.prototype.keys) is not one. */
function keySetOf(uri: string, body: unknown): { keys: unknown[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !Array.isArray((body as { keys?: unknown }).keys)) {
    throw new Error(`${uri}: not a key set (no "keys" array)`);
  }
  return body as { keys: unknown[] };
}
