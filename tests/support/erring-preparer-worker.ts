import { parentPort } from 'node:worker_threads';
import type { PreparerAnswer, PreparerRequest } from '../../service/src/api/data/preparer-protocol.js';

/** A preparer worker that stays alive but answers every read with an error, as a bug in reading would (tests/unit/api/data/preparer-pool.test.ts). */
parentPort?.on('message', (request: PreparerRequest) => {
  if (request.op === 'read') parentPort?.postMessage({ call: request.call, error: new Error('a bug in reading') } satisfies PreparerAnswer);
});
