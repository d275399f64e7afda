import { parentPort } from 'node:worker_threads';
import type { PreparerRequest } from '../../service/src/api/data/preparer-protocol.js';

/** A preparer worker that dies when asked to read a document or a stream's chunk or prepare records, and finishes empty sessions (tests/unit/api/data/preparer-pool.test.ts). */
parentPort?.on('message', (request: PreparerRequest) => {
  if (request.op === 'records' || request.op === 'read' || request.op === 'stream-push') process.exit(3);
  if (request.op === 'finish') parentPort?.postMessage({ call: request.call, result: { inserts: [], fragmentRecords: 0 } });
});
