/**
 * Errors the domain speaks, in its own words. The HTTP layer maps each to a status and an RFC 9457
 * problem (http/problem-types.ts); anything else that escapes a request is a bug and becomes a 500.
 */

/** Where a problem lies: a JSON pointer into the input, or a named parameter. */
export type FieldError = { pointer: string; detail: string } | { parameter: string; detail: string };

export abstract class DomainError extends Error {
  readonly errors: FieldError[];
  readonly extensions: Record<string, unknown>;

  constructor(detail: string, errors: FieldError[] = [], extensions: Record<string, unknown> = {}, options?: ErrorOptions) {
    super(detail, options);
    this.name = new.target.name;
    this.errors = errors;
    this.extensions = extensions;
  }
}

/** The input is malformed: nothing was attempted. */
export class InvalidInput extends DomainError {}

/** Some items are invalid (and, with atomic writes, nothing was stored). */
export class UnprocessableItems extends DomainError {}

export class NotFound extends DomainError {}

/** A search ran past its time limit and was stopped: too broad to answer as asked. */
export class SearchTooBroad extends DomainError {}

/** The caller went away before its answer: the work was stopped, and nobody reads the response. */
export class Abandoned extends DomainError {}

/** A store failed; nothing was changed, and the caller may retry. */
export class Unavailable extends DomainError {}

/** The same Idempotency-Key was used with a different request. */
export class IdempotencyKeyReused extends DomainError {}

/** Raised inside a transaction when another request stored the same Idempotency-Key first. */
export class IdempotencyKeyTaken extends DomainError {}

/** More items in one request than a single write accepts. */
export class TooManyItems extends DomainError {}
