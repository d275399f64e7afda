import { parentPort, workerData } from 'node:worker_threads';
import { readItemsDocument } from '../domain/bulk-items.js';
import { InvalidInput, TooManyItems } from '../domain/errors.js';
import type { NewRecord } from '../domain/record.js';
import { createStreamItems, type StreamStep } from '../domain/stream-items.js';
import { createBatchPreparer, type BatchPreparer, type PreparerOptions } from './batch-preparer.js';
import type { PreparerAnswer, PreparerRequest, ReadResult, RecordsArgument, StreamArgument, StreamStepResult } from './preparer-protocol.js';
import { lowerThreadPriority } from './thread-priority.js';

/**
 * A worker thread of data/preparer-pool.ts: one batch preparer per open session, one reader per
 * open NDJSON stream, and the records of the documents and stream batches it read, held until
 * released (the thread serving requests never builds them).
 */
const port = parentPort;
if (!port) throw new Error('preparer-worker runs as a worker thread');
// Writes yield the CPU to the thread that serves reads (WRITE_WORKER_NICE; docs/performance.md, run P).
lowerThreadPriority((workerData as { nice?: number } | undefined)?.nice ?? 0);
const sessions = new Map<number, BatchPreparer>();
const streams = new Map<number, ReturnType<typeof createStreamItems>>();
const held = new Map<number, NewRecord[]>();
let nextHeld = 1;

function hold(records: NewRecord[]): number {
  const id = nextHeld++;
  held.set(id, records);
  return id;
}

function read(document: Uint8Array): ReadResult {
  try {
    const { accepted, rejected } = readItemsDocument(document);
    if (accepted.length === 0) return { held: 0, count: 0, rejected };
    return { held: hold(accepted), count: accepted.length, rejected };
  } catch (error) {
    if (error instanceof InvalidInput || error instanceof TooManyItems) {
      return { refused: { name: error instanceof TooManyItems ? 'TooManyItems' : 'InvalidInput', detail: error.message, errors: error.errors } };
    }
    throw error;
  }
}

/** A stream's step, its batches held here. */
function heldStep({ batches, rejected, rejectedCount }: StreamStep<NewRecord[]>): StreamStepResult {
  return { batches: batches.map((batch) => ({ held: hold(batch), count: batch.length })), rejected, rejectedCount };
}

function streamStep(argument: StreamArgument): StreamStepResult {
  const items = streams.get(argument.stream);
  if (!items) throw new Error(`no open stream ${argument.stream}`);
  return heldStep('chunk' in argument ? items.push(argument.chunk) : items.end());
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
      return held.size + streams.size;
    case 'stream-open': {
      const { stream, options } = request.arg as Extract<StreamArgument, { options: unknown }>;
      streams.set(stream, createStreamItems(options));
      return undefined;
    }
    case 'stream-push':
    case 'stream-end':
      return streamStep(request.arg as StreamArgument);
    case 'stream-close':
      streams.delete((request.arg as StreamArgument).stream);
      return undefined;
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
