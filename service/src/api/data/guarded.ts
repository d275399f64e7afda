import { DomainError, Unavailable } from '../domain/errors.js';

/** Any failure inside the database is an outage from the client's point of view: retry later. */
export function unavailable(cause: unknown): Unavailable {
  return new Unavailable('The database could not complete the request; nothing was changed.', [], {}, { cause });
}

/** Runs one store operation: domain errors keep their meaning, anything else is Unavailable. */
export async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof DomainError) throw error;
    throw unavailable(error);
  }
}
