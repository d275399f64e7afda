import { expect } from 'chai';
import { callerLimit } from '../../../../service/src/api/http/caller-limit.js';
import { HttpProblem } from '../../../../service/src/api/http/problem.js';

/** The per-caller bound counts each (issuer, subject) apart, and frees a slot when it is released. */
describe('callerLimit', function () {
  const caller = (issuer: string, subject: string) => ({ issuer, subject, scopes: new Set<string>() });

  it('refuses a caller over its limit while other callers proceed, and frees the slot on release (once)', function () {
    const admit = callerLimit(1);
    const release = admit(caller('https://id.example.org/', 'alice'));
    const refused = (() => {
      try {
        admit(caller('https://id.example.org/', 'alice'));
        return null;
      } catch (error) {
        return error;
      }
    })();
    expect(refused).to.be.instanceOf(HttpProblem);
    expect((refused as HttpProblem).status).to.equal(429);
    // The same subject from another issuer is another caller.
    admit(caller('https://other.example.org/', 'alice'))();
    admit(caller('https://id.example.org/', 'bob'))();
    release();
    release();
    const again = admit(caller('https://id.example.org/', 'alice'));
    expect(() => admit(caller('https://id.example.org/', 'alice')), 'a second release frees nothing more').to.throw(HttpProblem);
    again();
  });
});
