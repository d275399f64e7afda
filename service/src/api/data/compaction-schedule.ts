import type { Logger } from 'pino';
import { loggableError } from '../observability/loggable-error.js';
import type { IndexCompactor } from './index-compactor.js';
import { createPeriodicPass } from './periodic-pass.js';

/**
 * When merges run: as soon as this process has written `mergeAt` records as fragments, and every
 * `intervalMs` in any case (other replicas' small writes count too, and this process hears only
 * its own). One pass at a time; a pass never runs inside a request.
 */
export function createCompactionSchedule({ compactor, logger, mergeAt, intervalMs }: { compactor: IndexCompactor; logger: Logger; mergeAt: number; intervalMs: number }) {
  let written = 0;
  const schedule = createPeriodicPass({
    intervalMs,
    pass: () => {
      written = 0;
      return compactor
        .compact()
        .then((result) => {
          if (result.batches > 0) logger.info(result, 'search index fragments merged');
        })
        .catch((error: unknown) => logger.warn({ err: loggableError(error) }, 'merging search index fragments failed; the next pass retries'));
    },
  });
  return {
    /** A commit indexed `records` as fragments. */
    written(records: number): void {
      written += records;
      if (written >= mergeAt) schedule.runNow();
    },
    /** Stops the timer and waits for a running pass. */
    stop: schedule.stop,
  };
}
