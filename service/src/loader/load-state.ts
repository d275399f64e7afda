import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { LoadFailed } from './load.js';
import type { SentChunks } from './summary.js';

/**
 * What an unfinished load of a file was started with, kept in `<rejects file>.load-state.json` until the load
 * has sent every chunk. The chunks' Idempotency-Keys are made of the file's digest and the chunk
 * size, so a run with another `--chunk-size`, or of the file edited since, would be a new load
 * and store every valid record again: such a run is refused while an earlier one is unfinished.
 * `sent` adds up the chunks the service has answered, from the first: a re-run skips them.
 */
export type LoadState = { digest: string; chunkSize: number; sent?: SentChunks };

const count = z.number().int().min(0);
const stateSchema = z.object({
  digest: z.string(),
  chunkSize: count,
  sent: z.object({ chunks: count, stored: count, rejected: count, rejectsBytes: count }).optional(),
});

async function read(path: string): Promise<LoadState | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new LoadFailed(`cannot read ${path}: ${(error as Error).message}`);
  }
  // What it says decides which chunks are never sent: a file that says nothing sure stops the load.
  const state = stateSchema.safeParse((() => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return null;
    }
  })());
  if (!state.success) throw new LoadFailed(`${path} is not a load's state (edited, or cut short); delete it to start the load anew, storing every record of the file again`);
  return state.data;
}

/** Written whole, then renamed over the last: a loader killed while writing leaves the previous state. */
async function write(path: string, state: LoadState): Promise<void> {
  try {
    await writeFile(`${path}.partial`, `${JSON.stringify(state)}\n`);
    await rename(`${path}.partial`, path);
  } catch (error) {
    throw new LoadFailed(`cannot write ${path}: ${(error as Error).message}`);
  }
}

/**
 * Records this run's settings, refusing them when an unfinished earlier run used others; returns
 * what that earlier run had sent (null: nothing, or no earlier run).
 */
export async function beginLoad(path: string, state: LoadState): Promise<SentChunks | null> {
  const earlier = await read(path);
  const start = `to start a new load that stores every record of the file again, delete ${path}`;
  if (earlier && earlier.digest !== state.digest) {
    throw new LoadFailed(`the file changed since an unfinished earlier load of it (${path}); run that load again with the file it sent, or, ${start}`);
  }
  if (earlier && earlier.chunkSize !== state.chunkSize) {
    throw new LoadFailed(`an unfinished earlier load of this file used --chunk-size ${earlier.chunkSize}: run it again with that size to resume it (another size stores its records again), or, ${start}`);
  }
  const sent = earlier?.sent ?? null;
  await write(path, sent ? { ...state, sent } : state);
  return sent;
}

/** The service answered the chunks `sent` counts: a later run of the load starts after them. */
export async function chunksSent(path: string, state: LoadState & { sent: SentChunks }): Promise<void> {
  await write(path, state);
}

/** Every chunk was sent: a later run of the same file is a load of its own. */
export async function endLoad(path: string): Promise<void> {
  await rm(path, { force: true });
}
