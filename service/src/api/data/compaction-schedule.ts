import type { Logger } from 'pino';
import { loggableError } from '../observability/loggable-error.js';
import type { IndexCompactor } from './index-compactor.js';

/**
 * When merges run: as soon as this process has written `mergeAt` records as fragments, and every
 * `intervalMs` in any case (other replicas' small writes count too, and this process hears only
 * its own). One pass at a time; a pass never runs inside a request.
 */
export function createCompactionSchedule({ compactor, logger, mergeAt, intervalMs }: { compactor: IndexCompactor; logger: Logger; mergeAt: number; intervalMs: number }) {
  let written = 0;
  let running: Promise<void> | null = null;
  const run = () => {
    if (running) return;
    written = 0;
    running = compactor
      .compact()
      .then((result) => {
        if (result.batches > 0) logger.info(result, 'search index fragments merged');
      })
      .catch((error: unknown) => logger.warn({ err: loggableError(error) }, 'merging search index fragments failed; the next pass retries'))
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return {
    /** A commit indexed `records` as fragments. */
    written(records: number): void {
      written += records;
      if (written >= mergeAt) run();
    },
    /** Stops the timer and waits for a running pass. */
    async stop(): Promise<void> {
      clearInterval(timer);
      await running;
    },
  };
}
