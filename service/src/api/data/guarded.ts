import { DomainError, Unavailable } from '../domain/errors.js';

/**
 * Any failure inside the database is an outage from the client's point of view: retry later.
 * Domain errors, and `passThrough` errors (a caller's own, raised inside a transaction), keep
 * their meaning.
 */
export async function guarded<T>(work: () => Promise<T>, passThrough: (error: unknown) => boolean = () => false): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof DomainError || passThrough(error)) throw error;
    throw new Unavailable('The database could not complete the request; nothing was changed.', [], {}, { cause: error });
  }
}
