import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export type JsonRequest = {
  method: string;
  url: URL;
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
  /** Extra CA certificates (a cluster's CA); `rejectUnauthorized: false` only for loopback peers. */
  ca?: Buffer;
  rejectUnauthorized?: boolean;
  timeoutMs?: number;
};

export type JsonResponse = { status: number; json: any };

/**
 * One HTTP(S) request with a JSON body and answer, for the small API clients of the commands
 * (`records init-secret` to the Kubernetes API, `records kong-sync` to Kong's Admin API). A body
 * that is not JSON comes back as `{ message }`, so errors can name what the peer said.
 */
export function requestJson({ method, url, body, contentType = 'application/json', headers = {}, ca, rejectUnauthorized = true, timeoutMs = 10_000 }: JsonRequest): Promise<JsonResponse> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method,
        ca,
        rejectUnauthorized,
        timeout: timeoutMs,
        headers: { accept: 'application/json', ...headers, ...(payload === undefined ? {} : { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) }) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        // A peer that closes mid-answer ends neither the response nor the request: without this
        // the promise would never settle (the timeout is the socket's, which is gone).
        res.on('close', () => {
          if (!res.complete) reject(new Error(`${method} ${url.pathname}: the answer was cut short`));
        });
        res.on('end', () => {
          let json: unknown;
          try {
            json = text === '' ? null : JSON.parse(text);
          } catch {
            json = { message: text.slice(0, 300) };
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${url.pathname}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}
