/** Why a request may not proceed, in auth's own words; http/problem-types.ts maps each to a response. */

/**
 * No valid bearer token: missing, malformed, expired, from an untrusted issuer, ... `tokenSent`:
 * whether the request tried a bearer token at all (RFC 6750 names no error for one that did not).
 */
export class Unauthenticated extends Error {
  constructor(
    readonly reason: string,
    readonly tokenSent = true,
  ) {
    super(`Authentication failed: ${reason}.`);
    this.name = 'Unauthenticated';
  }
}

/** A valid token without the scope the operation needs. */
export class InsufficientScope extends Error {
  constructor(readonly scope: string) {
    super(`This operation needs the scope ${scope}.`);
    this.name = 'InsufficientScope';
  }
}

/** Tokens cannot be verified right now (an issuer's keys cannot be fetched); retry in `retryAfterSeconds`. */
export class VerificationUnavailable extends Error {
  constructor(
    readonly retryAfterSeconds: number,
    options?: ErrorOptions,
  ) {
    super('Tokens cannot be verified right now; retry later.', options);
    this.name = 'VerificationUnavailable';
  }
}
