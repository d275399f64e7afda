import { parentPort } from 'node:worker_threads';
import { createBatchPreparer, type BatchPreparer, type PreparerOptions } from './batch-preparer.js';
import type { PreparerAnswer, PreparerRequest } from './preparer-protocol.js';

/** A worker thread of data/preparer-pool.ts: one batch preparer per open session. */
const port = parentPort;
if (!port) throw new Error('preparer-worker runs as a worker thread');
const sessions = new Map<number, BatchPreparer>();

function run(request: PreparerRequest): unknown {
  if (request.op === 'open') {
    sessions.set(request.session, createBatchPreparer(request.arg as PreparerOptions));
    return undefined;
  }
  if (request.op === 'close') {
    sessions.delete(request.session);
    return undefined;
  }
  const preparer = sessions.get(request.session);
  if (!preparer) throw new Error(`no open session ${request.session}`);
  if (request.op === 'records') return preparer.records(request.arg as Parameters<BatchPreparer['records']>[0]);
  if (request.op === 'inserted') return preparer.inserted(request.arg as number);
  return preparer.finish();
}

port.on('message', (request: PreparerRequest) => {
  let answer: PreparerAnswer;
  try {
    answer = { call: request.call, result: run(request) };
  } catch (error) {
    answer = { call: request.call, error: error instanceof Error ? error : new Error(String(error)) };
  }
  // An open or close that failed has no caller to tell; the session's next call fails instead.
  if (request.call !== 0) port.postMessage(answer);
});
