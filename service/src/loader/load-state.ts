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
const count = z.number().int().min(0);
const stateSchema = z.object({
  digest: z.string(),
  chunkSize: count,
  /** The service the answered chunks went to (absent in states written before it was kept). */
  url: z.string().optional(),
  sent: z.object({ chunks: count, stored: count, rejected: count, rejectsBytes: count }).optional(),
}) satisfies z.ZodType<{ digest: string; chunkSize: number; url?: string; sent?: SentChunks }>;

export type LoadState = z.infer<typeof stateSchema>;

async function read(path: string): Promise<LoadState | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new LoadFailed(`cannot read ${path}: ${(error as Error).message}`);
  }
  // What it says decides which chunks are never sent: a file that says nothing sure stops the load.
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON: refused below */
  }
  const state = stateSchema.safeParse(json);
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

/** A load under way: what an earlier run had sent, and the state to keep as chunks are answered. */
export type LoadRun = {
  /** What an unfinished earlier run had sent (null: nothing, or no earlier run). */
  resume: SentChunks | null;
  /** The service answered the chunks `sent` counts: a later run of the load starts after them. */
  sent(sent: SentChunks): Promise<void>;
  /** Every chunk was sent: a later run of the same file is a load of its own. */
  end(): Promise<void>;
};

/**
 * Records this run's settings, refusing them when an unfinished earlier run used others. A run at
 * another URL is refused once chunks were answered, unless `sameService`: those chunks are skipped,
 * so a run against another service (staging first, then production) would never send them there.
 */
export async function beginLoad(path: string, settings: { digest: string; chunkSize: number; url: string }, { sameService = false } = {}): Promise<LoadRun> {
  const earlier = await read(path);
  const start = `to start a new load that stores every record of the file again, delete ${path}`;
  if (earlier && earlier.digest !== settings.digest) {
    throw new LoadFailed(`the file changed since an unfinished earlier load of it (${path}); run that load again with the file it sent, or, ${start}`);
  }
  if (earlier && earlier.chunkSize !== settings.chunkSize) {
    throw new LoadFailed(`an unfinished earlier load of this file used --chunk-size ${earlier.chunkSize}: run it again with that size to resume it (another size stores its records again), or, ${start}`);
  }
  if (earlier?.sent && earlier.url !== undefined && earlier.url !== settings.url && !sameService) {
    throw new LoadFailed(
      `an unfinished earlier load of this file sent its first ${earlier.sent.chunks} chunks to ${earlier.url}, and a run skips them: if ${settings.url} is the same service, run again with --same-service; to load every record into it, give another --rejects (or, ${start})`,
    );
  }
  const resume = earlier?.sent ?? null;
  await write(path, resume ? { ...settings, sent: resume } : settings);
  return {
    resume,
    sent: (sent) => write(path, { ...settings, sent }),
    end: () => rm(path, { force: true }),
  };
}
