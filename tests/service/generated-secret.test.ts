import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadSigningKey } from '../../service/src/api/auth/signing-key.js';
import type { KubernetesApi } from '../../service/src/clients/kubernetes.js';
import { ensureGeneratedSecret } from '../../service/src/cluster/generated-secret.js';

/**
 * The Secrets part of the Kubernetes API, as the API server answers it (201/409 on create, 404 on
 * a missing object, merge patch with a resourceVersion precondition). The cluster suite runs the
 * chart against a real API server; this pins the generator's own rules quickly.
 */
function secretsApi() {
  const secrets = new Map<string, { metadata: { name: string; resourceVersion: string; deletionTimestamp?: string }; data: Record<string, string> }>();
  let version = 1;
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      requests.push(`${req.method} ${req.url}`);
      const send = (status: number, value: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (req.headers.authorization !== 'Bearer test-token') return send(401, { message: 'Unauthorized' });
      const match = /^\/api\/v1\/namespaces\/records\/secrets(?:\/([^/]+))?$/.exec(req.url ?? '');
      if (!match) return send(404, { message: 'no such path' });
      const name = match[1];
      const existing = name ? secrets.get(name) : undefined;
      if (req.method === 'GET') return existing ? send(200, existing) : send(404, { message: `secrets "${name}" not found` });
      if (req.method === 'POST') {
        const object = JSON.parse(body);
        if (secrets.has(object.metadata.name)) return send(409, { message: 'already exists' });
        const stored = { metadata: { name: object.metadata.name, resourceVersion: String((version += 1)) }, data: object.data };
        secrets.set(object.metadata.name, stored);
        return send(201, stored);
      }
      if (req.method === 'PATCH' && existing) {
        expect(req.headers['content-type']).to.equal('application/merge-patch+json');
        const patch = JSON.parse(body);
        if (patch.metadata.resourceVersion !== existing.metadata.resourceVersion) return send(409, { message: 'the object has been modified' });
        existing.data = { ...existing.data, ...patch.data };
        existing.metadata.resourceVersion = String((version += 1));
        return send(200, existing);
      }
      return send(405, { message: 'method not allowed' });
    });
  });
  return { secrets, requests, server };
}

describe('the generated Secret (records init-secret)', function () {
  const fake = secretsApi();
  let api: KubernetesApi;
  const dir = mkdtempSync(join(tmpdir(), 'records-secret-'));
  const decoded = (name: string) =>
    Object.fromEntries(Object.entries(fake.secrets.get(name)?.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));

  before(async function () {
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    api = { url: `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`, token: 'test-token' };
  });
  after(async function () {
    await new Promise((resolve) => fake.server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the Secret with a P-256 signing key and alphanumeric passwords', async function () {
    const result = await ensureGeneratedSecret(api, { namespace: 'records', name: 'records-generated', keys: ['signing-key.pem', 'mariadb-password'] });
    expect(result).to.deep.equal({ created: true, added: ['signing-key.pem', 'mariadb-password'] });
    const values = decoded('records-generated');
    expect(values['mariadb-password']).to.match(/^[A-Za-z0-9]{32}$/);
    writeFileSync(join(dir, 'key.pem'), values['signing-key.pem'] as string);
    expect(loadSigningKey(join(dir, 'key.pem')).algorithm).to.equal('ES256');
  });

  it('keeps existing values on every later run, and adds only keys that are missing', async function () {
    const before = decoded('records-generated');
    expect(await ensureGeneratedSecret(api, { namespace: 'records', name: 'records-generated', keys: ['signing-key.pem', 'mariadb-password'] })).to.deep.equal({ created: false, added: [] });
    const result = await ensureGeneratedSecret(api, { namespace: 'records', name: 'records-generated', keys: ['signing-key.pem', 'mariadb-password', 'mariadb-root-password'] });
    expect(result).to.deep.equal({ created: false, added: ['mariadb-root-password'] });
    const after = decoded('records-generated');
    expect(after['signing-key.pem']).to.equal(before['signing-key.pem']);
    expect(after['mariadb-password']).to.equal(before['mariadb-password']);
    expect(after['mariadb-root-password']).to.match(/^[A-Za-z0-9]{32}$/).and.not.equal(after['mariadb-password']);
  });

  it('settles concurrent runs on one value', async function () {
    const runs = await Promise.all(Array.from({ length: 4 }, () => ensureGeneratedSecret(api, { namespace: 'records', name: 'raced', keys: ['mariadb-password'] })));
    expect(runs.filter((run) => run.created)).to.have.length(1);
    expect(decoded('raced')['mariadb-password']).to.match(/^[A-Za-z0-9]{32}$/);
  });

  it('fails with the API server\'s message when it refuses', async function () {
    let error: unknown;
    await ensureGeneratedSecret({ ...api, token: 'wrong' }, { namespace: 'records', name: 'x', keys: ['mariadb-password'] }).catch((caught: unknown) => (error = caught));
    expect(String(error)).to.contain('reading Secret records/x: HTTP 401: Unauthorized');
  });

  it('refuses a Secret that is being deleted instead of counting on its values (they vanish once its finalizers finish)', async function () {
    await ensureGeneratedSecret(api, { namespace: 'records', name: 'going', keys: ['mariadb-password'] });
    const going = fake.secrets.get('going');
    if (going) going.metadata.deletionTimestamp = '2030-01-01T00:00:00Z';
    let error: unknown;
    await ensureGeneratedSecret(api, { namespace: 'records', name: 'going', keys: ['mariadb-password'] }).catch((caught: unknown) => (error = caught));
    expect(String(error)).to.match(/Secret records\/going is being deleted/);
  });
});
