import { expect } from 'chai';
import { failureMessage } from '../../../service/src/shared/failure-message.js';

describe('what records prints for a failed command (failureMessage)', function () {
  it('gives the message and each cause, without a stack, for an operational failure', function () {
    const refused = new Error('reading Secret records/records-generated: HTTP 403', { cause: new Error('secrets is forbidden') });
    expect(failureMessage(refused)).to.equal('reading Secret records/records-generated: HTTP 403\ncaused by: secrets is forbidden');
    expect(failureMessage('a thrown string')).to.equal('a thrown string');
  });

  it("keeps the stack of a bug in the program, where it helps, and stops at a cycle of causes", function () {
    const bug = new TypeError("Cannot read properties of undefined (reading 'x')");
    const text = failureMessage(new Error('cycle failed', { cause: bug }));
    expect(text).to.match(/^cycle failed\ncaused by: TypeError: Cannot read properties of undefined \(reading 'x'\)\n\s+at /);
    const looping = new Error('a');
    looping.cause = looping;
    expect(failureMessage(looping).split('\n')).to.have.length(5);
  });
});
