import { parentPort, workerData } from 'node:worker_threads';
import { readItemsDocument } from '../domain/bulk-items.js';
import { InvalidInput, TooManyItems } from '../domain/errors.js';
import type { NewRecord } from '../domain/record.js';
import { createBatchPreparer, type BatchPreparer, type PreparerOptions } from './batch-preparer.js';
import type { PreparerAnswer, PreparerRequest, ReadResult, RecordsArgument } from './preparer-protocol.js';
import { lowerThreadPriority } from './thread-priority.js';

/**
 * A worker thread of data/preparer-pool.ts: one batch preparer per open session, and the records
 * of the documents it read, held until released (the thread serving requests never builds them).
 */
const port = parentPort;
if (!port) throw new Error('preparer-worker runs as a worker thread');
// Writes yield the CPU to the thread that serves reads (WRITE_WORKER_NICE; docs/performance.md, run P).
lowerThreadPriority((workerData as { nice?: number } | undefined)?.nice ?? 0);
const sessions = new Map<number, BatchPreparer>();
const held = new Map<number, NewRecord[]>();
let nextHeld = 1;

function read(document: Uint8Array): ReadResult {
  try {
    const { accepted, rejected } = readItemsDocument(document);
    if (accepted.length === 0) return { held: 0, count: 0, rejected };
    const id = nextHeld++;
    held.set(id, accepted);
    return { held: id, count: accepted.length, rejected };
  } catch (error) {
    if (error instanceof InvalidInput || error instanceof TooManyItems) {
      return { refused: { name: error instanceof TooManyItems ? 'TooManyItems' : 'InvalidInput', detail: error.message, errors: error.errors } };
    }
    throw error;
  }
}

function recordsOf(argument: RecordsArgument): NewRecord[] {
  if (Array.isArray(argument)) return argument;
  const records = held.get(argument.held);
  if (!records) throw new Error(`no held records ${argument.held}`);
  return records.slice(argument.start, argument.end);
}

function run(request: PreparerRequest): unknown {
  switch (request.op) {
    case 'read':
      return read(request.arg as Uint8Array);
    case 'release':
      held.delete(request.arg as number);
      return undefined;
    case 'held':
      return held.size;
    case 'open':
      sessions.set(request.session, createBatchPreparer(request.arg as PreparerOptions));
      return undefined;
    case 'close':
      sessions.delete(request.session);
      return undefined;
  }
  const preparer = sessions.get(request.session);
  if (!preparer) throw new Error(`no open session ${request.session}`);
  if (request.op === 'records') return preparer.records(recordsOf(request.arg as RecordsArgument));
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
  // An open, close or release that failed has no caller to tell; the session's next call fails instead.
  if (request.call !== 0) port.postMessage(answer);
});
