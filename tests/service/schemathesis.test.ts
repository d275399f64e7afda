import { execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadSigningKey } from '../../service/src/api/auth/signing-key.js';
import { createTokenMinter } from '../../service/src/api/auth/token-minter.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * An outside fuzzer on the API: Schemathesis (PyPI, scripts/install-schemathesis) generates
 * requests from service/openapi.yaml against the running service, with a valid token and without
 * one, and checks for server errors, undocumented status codes, and responses whose media type,
 * headers or body do not match the contract.
 */
const CHECKS = ['not_a_server_error', 'status_code_conformance', 'content_type_conformance', 'response_headers_conformance', 'response_schema_conformance'];
const ISSUER = 'https://records.test/';

describe('Schemathesis against the running service', function () {
  this.timeout(300_000);
  const dir = mkdtempSync(join(tmpdir(), 'records-schemathesis-'));
  let app: TestApp;
  let st: string;
  let token: string;

  before(async function () {
    st = execFileSync('scripts/install-schemathesis', { encoding: 'utf8' }).trim();
    const keyFile = join(dir, 'key.pem');
    writeFileSync(keyFile, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    // Authentication on, trusting only the service's own key: the token below is a real one.
    app = await startTestApp('sqlite', { AUTH_MODE: 'required', SERVICE_KEY_FILE: keyFile, SERVICE_ISSUER: ISSUER });
    token = createTokenMinter({ key: loadSigningKey(keyFile), issuer: ISSUER, name: 'records' }).token({ audience: 'records', scope: 'records:read records:write' });
  });
  after(async function () {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs Schemathesis without blocking: the service answers from this very process. */
  const fuzz = (headers: string[]) =>
    new Promise<{ status: number | null; output: string }>((resolve) => {
      const args = ['run', 'service/openapi.yaml', '--url', app.baseUrl, '--checks', CHECKS.join(','), '--max-examples', '40', '--seed', '1', '-w', '1', ...headers.flatMap((header) => ['-H', header])];
      // The NDJSON body is a string of lines in the contract: tests/schemathesis/hooks.py sends it as text.
      const child = spawn(st, args, { env: { ...process.env, PYTHONPATH: 'tests/schemathesis', SCHEMATHESIS_HOOKS: 'hooks', NO_COLOR: '1' } });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.on('exit', (status) => resolve({ status, output }));
    });

  it('finds nothing with a valid token', async function () {
    const result = await fuzz([`Authorization: Bearer ${token}`]);
    expect(result.status, result.output).to.equal(0);
    expect(Number(/(\d+) generated/.exec(result.output)?.[1]), 'test cases generated').to.be.greaterThan(100);
    expect(result.output).to.match(/Tested: 3\b/);
  });

  it('finds nothing without one', async function () {
    const result = await fuzz([]);
    expect(result.status, result.output).to.equal(0);
    expect(result.output).to.match(/Tested: 3\b/);
  });
});
