import { expect } from 'chai';
import { callerLimit } from '../../../../service/src/api/http/caller-limit.js';
import { HttpProblem } from '../../../../service/src/api/http/problem.js';

/** The per-caller bound counts each (issuer, subject) apart, and frees a slot when its work ends. */
describe('callerLimit', function () {
  const caller = (issuer: string, subject: string) => ({ issuer, subject, scopes: new Set<string>() });

  it('refuses a caller over its limit while other callers proceed, and frees the slot after', async function () {
    const limit = callerLimit(1);
    let release: () => void = () => {};
    const held = limit(caller('https://id.example.org/', 'alice'), () => new Promise<void>((resolve) => (release = resolve)));
    const refused = await limit(caller('https://id.example.org/', 'alice'), async () => {}).catch((error: unknown) => error);
    expect(refused).to.be.instanceOf(HttpProblem);
    expect((refused as HttpProblem).status).to.equal(429);
    // The same subject from another issuer is another caller.
    await limit(caller('https://other.example.org/', 'alice'), async () => {});
    await limit(caller('https://id.example.org/', 'bob'), async () => {});
    release();
    await held;
    await limit(caller('https://id.example.org/', 'alice'), async () => {});
  });
});
