import { spawn, type ChildProcess } from 'node:child_process';
import Database from 'better-sqlite3';
import { buildService } from './service-process.js';

/**
 * `records load` compiled, as the image and the package's bin run it (the suites run it some forty
 * times: tsx's start-up added a quarter of a second to each; `make load` runs the same code under
 * tsx), and how many records a SQLite service stored.
 */

export type LoaderRun = { child: ChildProcess; done: Promise<{ code: number | null; stderr: string }> };

export function startLoader(args: string[]): LoaderRun {
  buildService();
  const child = spawn(process.execPath, ['service/dist/main.js', 'load', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
  return { child, done };
}

/** Rows of `records` in the SQLite file at `path`, read while the service may be writing. */
export function storedRecords(path: string): number {
  const db = new Database(path, { readonly: true, timeout: 5000 });
  try {
    return (db.prepare('select count(*) as n from records').get() as { n: number }).n;
  } finally {
    db.close();
  }
}
