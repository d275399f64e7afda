/**
 * Errors the domain speaks. The HTTP layer maps each to an RFC 9457 problem; anything else
 * that escapes a request is a bug and becomes a plain 500.
 */

/** Where a problem lies: a JSON pointer into the body, or a query / path parameter. */
export type FieldError = { pointer: string; detail: string } | { parameter: string; detail: string };

export abstract class DomainError extends Error {
  abstract readonly status: number;
  abstract readonly slug: string;
  readonly errors: FieldError[];
  readonly extensions: Record<string, unknown>;

  constructor(detail: string, errors: FieldError[] = [], extensions: Record<string, unknown> = {}, options?: ErrorOptions) {
    super(detail, options);
    this.name = new.target.name;
    this.errors = errors;
    this.extensions = extensions;
  }
}

export class InvalidInput extends DomainError {
  readonly status = 400;
  readonly slug = 'invalid-input';
}

export class UnprocessableItems extends DomainError {
  readonly status = 422;
  readonly slug = 'unprocessable-items';
}

export class NotFound extends DomainError {
  readonly status = 404;
  readonly slug = 'not-found';
}

export class Unavailable extends DomainError {
  readonly status = 503;
  readonly slug = 'unavailable';
}

/** The same Idempotency-Key was used with a different request. */
export class IdempotencyKeyReused extends DomainError {
  readonly status = 422;
  readonly slug = 'idempotency-key-reused';
}

/** Raised inside a transaction when another request stored the same Idempotency-Key first. */
export class IdempotencyKeyTaken extends DomainError {
  readonly status = 409;
  readonly slug = 'idempotency-key-in-use';
}

export class TooManyItems extends DomainError {
  readonly status = 413;
  readonly slug = 'too-many-items';
}
