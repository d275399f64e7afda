import { expect } from 'chai';
import type { Context, Next } from 'koa';
import { concurrencyLimit } from '../../../../service/src/api/http/concurrency-limit.js';

/** A request that records when it starts and finishes only when the test lets it. */
function controlledRequest(log: string[], name: string) {
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));
  const next: Next = async () => {
    log.push(`start ${name}`);
    await done;
    log.push(`end ${name}`);
  };
  return { next, finish };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('concurrencyLimit', function () {
  it('runs at most `limit` requests at once and starts the waiting ones in arrival order', async function () {
    const limit = concurrencyLimit(2);
    const log: string[] = [];
    const requests = ['a', 'b', 'c', 'd'].map((name) => ({ name, ...controlledRequest(log, name) }));
    const running = requests.map((request) => limit({} as Context, request.next));
    await tick();
    expect(log).to.deep.equal(['start a', 'start b']);
    requests[1]?.finish();
    await tick();
    expect(log).to.deep.equal(['start a', 'start b', 'end b', 'start c']);
    requests[0]?.finish();
    await tick();
    expect(log.slice(4)).to.deep.equal(['end a', 'start d']);
    requests[2]?.finish();
    requests[3]?.finish();
    await Promise.all(running);
  });

  it('frees the slot when a request fails, and lets the error through', async function () {
    const limit = concurrencyLimit(1);
    const failing = limit({} as Context, async () => {
      throw new Error('boom');
    });
    const log: string[] = [];
    const after = controlledRequest(log, 'after');
    const next = limit({} as Context, after.next);
    await expectRejection(failing, 'boom');
    await tick();
    expect(log).to.deep.equal(['start after']);
    after.finish();
    await next;
  });
});

async function expectRejection(promise: Promise<unknown>, message: string) {
  try {
    await promise;
  } catch (error) {
    expect((error as Error).message).to.equal(message);
    return;
  }
  expect.fail('expected a rejection');
}
