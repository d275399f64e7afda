/** Who made a request, as established by a verified token (or the dev stand-in when auth is off). */
export type Principal = {
  subject: string;
  issuer: string;
  scopes: ReadonlySet<string>;
};

export const SCOPES = { read: 'records:read', write: 'records:write' } as const;

declare module 'koa' {
  interface DefaultState {
    principal?: Principal;
    requestId?: string;
  }
}
