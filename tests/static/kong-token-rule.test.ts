import { expect } from 'chai';
import { createTokenVerifier } from '../../service/src/api/auth/token-verifier.js';
import { loadConfig } from '../../service/src/api/config.js';
import { generateTestKey, JwksServer } from '../support/jwks-server.js';
import { configOf, pluginOf, routesOf, type Route } from '../support/kong-generated.js';

/**
 * The project's model of the jwt plugin's documented time rule (Kong's handler cannot run here, and
 * the schema model says nothing about requests): each claim in claims_to_verify must be present and
 * hold (exp after now, nbf not after now), and exp may lie at most maximum_expiration ahead.
 */
function jwtTimeRuleModel(config: Record<string, any>, claims: { exp?: number; nbf?: number; iat?: number }, now: number): boolean {
  const verify: string[] = config.claims_to_verify ?? [];
  if (verify.includes('exp') && (typeof claims.exp !== 'number' || claims.exp <= now)) return false;
  if (verify.includes('nbf') && (typeof claims.nbf !== 'number' || claims.nbf > now)) return false;
  return !(config.maximum_expiration > 0 && (claims.exp ?? Infinity) - now > config.maximum_expiration);
}

describe('the token rule: the project\'s model of Kong\'s jwt plugin, and the service, admit the tokens of common identity providers', function () {
  const idp = new JwksServer('records');
  const jwt = pluginOf(routesOf(configOf('production'))[0] as Route, 'jwt')?.config ?? {};
  const service = loadConfig({});
  let verify: ReturnType<typeof createTokenVerifier>['verify'];

  before(async function () {
    idp.keys = [generateTestKey('RS256')];
    await idp.start();
    verify = createTokenVerifier({ ...service.auth, issuers: [idp.trusted] }).verify;
  });
  after(() => idp.stop());

  // Lifetimes by default; `nbf` where the provider sets it; the issuer's clock `skew` seconds ahead.
  const providers: Array<[string, { lifetime: number; nbf: boolean }]> = [
    ['Auth0 (24 h, no nbf)', { lifetime: 86_400, nbf: false }],
    ['Okta (1 h, no nbf)', { lifetime: 3600, nbf: false }],
    ['Microsoft Entra ID (about 75 min, nbf)', { lifetime: 4500, nbf: true }],
    ['Keycloak (5 min, no nbf)', { lifetime: 300, nbf: false }],
    ['Google (1 h, no nbf)', { lifetime: 3600, nbf: false }],
  ];
  for (const [name, { lifetime, nbf }] of providers) {
    for (const skew of [-5, 0, 5]) {
      it(`admits ${name} with the issuer's clock ${skew} s off, in the model of the gateway and in the service`, async function () {
        const now = Math.floor(Date.now() / 1000);
        const iat = now + skew;
        const claims = { iat, exp: iat + lifetime, ...(nbf ? { nbf: iat } : {}) };
        expect(jwtTimeRuleModel(jwt, claims, now), 'Kong').to.equal(true);
        expect((await verify(idp.sign(claims))).subject).to.equal('user-1');
      });
    }
  }

  it('refuses, in both, a token without exp or past it; the model of the gateway a token living longer than 24 h 5 min', async function () {
    const now = Math.floor(Date.now() / 1000);
    expect(jwtTimeRuleModel(jwt, { iat: now }, now)).to.equal(false);
    let refused = '';
    await verify(idp.sign({ exp: undefined })).catch((error: Error) => (refused = error.message));
    expect(refused).to.equal('token has no expiry');
    expect(jwtTimeRuleModel(jwt, { exp: now - 1 }, now)).to.equal(false);
    await verify(idp.sign({ exp: now - 60 })).catch((error: Error) => (refused = error.message));
    expect(refused).to.equal('token expired');
    expect(jwtTimeRuleModel(jwt, { iat: now, exp: now + 2 * 86_400 }, now)).to.equal(false);
  });

  it('leaves nbf to the service: 5 s ahead passes both, 60 s ahead is refused by the service', async function () {
    const now = Math.floor(Date.now() / 1000);
    expect(jwtTimeRuleModel(jwt, { exp: now + 300, nbf: now + 60 }, now)).to.equal(true);
    expect((await verify(idp.sign({ nbf: now + 5 }))).subject).to.equal('user-1');
    let refused = '';
    await verify(idp.sign({ nbf: now + 60 })).catch((error: Error) => (refused = error.message));
    expect(refused).to.equal('token not yet valid');
    expect(service.auth.clockToleranceSeconds).to.equal(10);
  });
});
