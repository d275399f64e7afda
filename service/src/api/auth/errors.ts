/** Why a request may not proceed, in auth's own words; http/problem-types.ts maps each to a response. */

/** No valid bearer token: missing, malformed, expired, from an untrusted issuer, ... */
export class Unauthenticated extends Error {
  constructor(readonly reason: string) {
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
