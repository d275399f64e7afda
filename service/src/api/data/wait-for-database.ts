import type { Logger } from 'pino';
import type { Database } from './database.js';

/** Waits up to `seconds` for the database to answer: one started beside a Job (the chart's bundled MariaDB) may still be initialising. */
export async function waitForDatabase(db: Database, seconds: number, logger: Logger): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    try {
      await db.knex.raw('select 1');
      return;
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      logger.info({ reason: (error as Error).message.slice(0, 200) }, 'waiting for the database');
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}
