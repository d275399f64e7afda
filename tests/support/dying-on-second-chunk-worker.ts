import { parentPort } from 'node:worker_threads';
import type { PreparerRequest } from '../../service/src/api/data/preparer-protocol.js';

/**
 * The real preparer worker, except that it dies at a stream's second chunk, once the first
 * chunk's batch has been inserted (tests/service/preparer-failure.test.ts). Registered first, this
 * listener runs before the worker's own.
 */
let chunks = 0;
parentPort?.on('message', (request: PreparerRequest) => {
  if (request.op === 'stream-push' && ++chunks === 2) process.exit(3);
});
await import('../../service/src/api/data/preparer-worker.js');
