import { readFile, rm, writeFile } from 'node:fs/promises';
import { LoadFailed } from './load.js';

/**
 * What an unfinished load of a file was started with, kept in `<rejects file>.load-state.json` until the load
 * has sent every chunk. The chunks' Idempotency-Keys are made of the file's digest and the chunk
 * size, so a run with another `--chunk-size`, or of the file edited since, would be a new load
 * and store every valid record again: such a run is refused while an earlier one is unfinished.
 */
export type LoadState = { digest: string; chunkSize: number };

async function read(path: string): Promise<LoadState | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LoadState;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new LoadFailed(`cannot read ${path}: ${(error as Error).message}`);
  }
}

/** Records this run's settings, refusing them when an unfinished earlier run used others. */
export async function beginLoad(path: string, state: LoadState): Promise<void> {
  const earlier = await read(path);
  const start = `to start a new load that stores every record of the file again, delete ${path}`;
  if (earlier && earlier.digest !== state.digest) {
    throw new LoadFailed(`the file changed since an unfinished earlier load of it (${path}); run that load again with the file it sent, or, ${start}`);
  }
  if (earlier && earlier.chunkSize !== state.chunkSize) {
    throw new LoadFailed(`an unfinished earlier load of this file used --chunk-size ${earlier.chunkSize}: run it again with that size to resume it (another size stores its records again), or, ${start}`);
  }
  await writeFile(path, `${JSON.stringify(state)}\n`).catch((error: Error) => {
    throw new LoadFailed(`cannot write ${path}: ${error.message}`);
  });
}

/** Every chunk was sent: a later run of the same file is a load of its own. */
export async function endLoad(path: string): Promise<void> {
  await rm(path, { force: true });
}
