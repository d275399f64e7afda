import { generateKeyPairSync, randomBytes, type JsonWebKey, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';

export type TestKey = { kid: string; alg: 'RS256' | 'ES256'; privateKey: KeyObject; publicKey: KeyObject; jwk: JsonWebKey };

export function generateTestKey(alg: 'RS256' | 'ES256'): TestKey {
  const pair =
    alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = `${alg.toLowerCase()}-${randomBytes(4).toString('hex')}`;
  return { kid, alg, ...pair, jwk: { ...pair.publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' } };
}

/**
 * A real identity provider's JWKS endpoint on loopback: keys can be published and removed, and
 * the server stopped and started again on the same port.
 */
export class JwksServer {
  readonly issuer: string;
  keys: TestKey[] = [];
  fetches = 0;
  /**
   * How the endpoint misbehaves, if at all: `stall` sends the status and the start of a key set,
   * then nothing more; `drip` sends a key set padded with a space every 100 ms, without end.
   */
  fault: 'stall' | 'drip' | null = null;
  /** The `traceparent` header of each fetch (undefined when none was sent). */
  readonly traceparents: Array<string | undefined> = [];
  private server: Server | null = null;
  private port = 0;

  constructor(readonly audience = 'records') {
    this.issuer = `https://idp-${randomBytes(3).toString('hex')}.example.test/`;
  }

  get jwksUri(): string {
    return `http://127.0.0.1:${this.port}/.well-known/jwks.json`;
  }

  get trusted() {
    return { issuer: this.issuer, jwksUri: this.jwksUri, audience: this.audience };
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.fetches += 1;
      this.traceparents.push(req.headers.traceparent as string | undefined);
      res.setHeader('content-type', 'application/json');
      if (this.fault === 'stall') return void res.writeHead(200).write('{"keys":[');
      if (this.fault === 'drip') {
        res.writeHead(200).write('{"keys":[');
        const drip = setInterval(() => res.write(' '), 100);
        return void res.on('close', () => clearInterval(drip));
      }
      res.end(JSON.stringify({ keys: this.keys.map((key) => key.jwk) }));
    });
    await new Promise<void>((resolve) => this.server?.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  /** Signs a token with `key` (default: the first published key); claims override the defaults. */
  sign(claims: Record<string, unknown> = {}, key: TestKey | undefined = this.keys[0]): string {
    if (!key) throw new Error('no key');
    const now = Math.floor(Date.now() / 1000);
    const payload = { iss: this.issuer, aud: this.audience, sub: 'user-1', scope: 'records:read records:write', iat: now, exp: now + 300, ...claims };
    for (const [name, value] of Object.entries(payload)) if (value === undefined) delete (payload as Record<string, unknown>)[name];
    return jwt.sign(payload, key.privateKey, { algorithm: key.alg, keyid: key.kid });
  }
}
