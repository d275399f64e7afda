import { expect } from 'chai';
import { generateTestKey, JwksServer } from '../support/jwks-server.js';
import { request, startTestApp, type JsonResponse, type TestApp } from '../support/test-app.js';

export function get(app: TestApp, path: string, token?: string, headers: Record<string, string> = {}): Promise<JsonResponse> {
  return request(app.baseUrl, path, { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });
}

export function post(app: TestApp, token: string | undefined, items: unknown[] = [{ title: 'authorized', date: '2020-01-01' }]) {
  return request(app.baseUrl, '/v1/bulk', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ items }),
  });
}

/** A 401 for a token that was sent and refused; `tokenSent: false`, for none sent (the challenge alone, RFC 6750 3.1). */
export function expect401(response: JsonResponse, token?: string, { tokenSent = true } = {}) {
  expect(response.status, JSON.stringify(response.body)).to.equal(401);
  expect(response.headers.get('content-type')).to.match(/^application\/problem\+json/);
  if (tokenSent) expect(response.headers.get('www-authenticate')).to.match(/^Bearer realm="records", error="invalid_token", error_description="[^"]+"$/);
  else expect(response.headers.get('www-authenticate')).to.equal('Bearer realm="records"');
  if (token) {
    expect(JSON.stringify(response.body)).not.to.contain(token);
    expect(response.headers.get('www-authenticate')).not.to.contain(token);
  }
}

/**
 * The setup of 'authentication and authorization' (auth.test.ts, auth-key-rotation.test.ts): registers,
 * in the calling describe, the hooks that start an RS256 and an ES256 issuer and an app that trusts
 * both, and returns the issuers, an accessor to the app and the app's clock control.
 */
export function useAuthApp() {
  const rsaIdp = new JwksServer();
  const ecIdp = new JwksServer('records-internal');
  let app: TestApp;
  // Real time, moved past the unknown-kid interval (600 ms at 100 fetches a minute) when a test needs a refetch.
  let skippedMs = 0;
  const clock = { now: () => Date.now() + skippedMs };
  const pastTheInterval = () => (skippedMs += 600);

  before(async function () {
    rsaIdp.keys = [generateTestKey('RS256')];
    ecIdp.keys = [generateTestKey('ES256')];
    await rsaIdp.start();
    await ecIdp.start();
    app = await startTestApp('sqlite', {
      AUTH_MODE: 'required',
      AUTH_ISSUERS: JSON.stringify([rsaIdp.trusted, ecIdp.trusted]),
      AUTH_JWKS_REQUESTS_PER_MINUTE: '100',
    }, undefined, clock);
  });
  after(async function () {
    await app?.close();
    await rsaIdp.stop();
    await ecIdp.stop();
  });

  return { rsaIdp, ecIdp, app: () => app, pastTheInterval };
}
