import { z } from 'zod';
import { bytes, ConfigError, invalidVariable, logLevel, parseEnvironment, port, refuseWithout, type LogLevel } from '../shared/environment.js';
import type { TrustedIssuer } from './auth/token-verifier.js';
import { engineOf } from './data/engine.js';
import { loadIssuers } from './trusted-issuers.js';

/** The API's configuration (`records serve`, `migrate`, `refold`, `token`): the only reader of its environment. */

/** The default JSON body limit; Kong's request-size-limiting must not exceed it (kong/ tests import this). */
export const DEFAULT_BODY_LIMIT_BYTES = 10 * 1024 * 1024;

const schema = z.object({
  PORT: port.default(8000),
  // Unset: every address, IPv6 and IPv4 (Node's default; IPv4 only where the host has no IPv6).
  HOST: z.string().min(1).optional(),
  DATABASE_URL: z
    .string()
    .min(1)
    .refine((url) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(url) || /^mysql:\/\/[^/]+\/[^/?]+/i.test(url), {
      message: 'must be mysql://user:pass@host:port/database or a SQLite file path',
    })
    .default('./data/records.sqlite'),
  // Kept apart from DATABASE_URL so the URL can live in a ConfigMap and the password in a Secret.
  DATABASE_PASSWORD: z.string().min(1).optional(),
  BODY_LIMIT: bytes.default(DEFAULT_BODY_LIMIT_BYTES),
  // A bulk body slower than this (after 5 s of grace) is refused, freeing its slot and transaction.
  BODY_MIN_BYTES_PER_SECOND: bytes.default(16 * 1024),
  NDJSON_BODY_LIMIT: bytes.default(1024 ** 3),
  NDJSON_MAX_LINE_BYTES: bytes.default(64 * 1024),
  IDEMPOTENCY_TTL_SECONDS: z.coerce.number().int().min(1).max(30 * 86_400).default(86_400),
  // Rows per multi-row INSERT; 6 bound values per row stays under SQLite's 32766-variable limit.
  INSERT_BATCH_SIZE: z.coerce.number().int().min(1).max(5000).default(500),
  BULK_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  // Worker threads preparing writes (folding, formatting INSERTs, posting rows) off the event loop; 0 prepares them inline.
  WRITE_WORKERS: z.coerce.number().int().min(0).max(16).default(1),
  // The write workers' nice value: reads on the event loop get the CPU first during loads.
  WRITE_WORKER_NICE: z.coerce.number().int().min(0).max(19).default(10),
  // The longest a search may run; a broader one is stopped (422) instead of keeping the database busy.
  SEARCH_TIME_LIMIT_MS: z.coerce.number().int().min(10).max(600_000).default(2000),
  SEARCHES_PER_CALLER: z.coerce.number().int().min(1).max(1000).default(4),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/[^/]+/, 'must be redis://[:password@]host:port[/db] or rediss://...')
    .optional(),
  // Kept apart from REDIS_URL so the URL can live in a ConfigMap and the password in a Secret.
  REDIS_PASSWORD: z.string().min(1).optional(),
  CACHE: z.enum(['on', 'off']).default('on'),
  CACHE_TTL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  CACHE_TIMEOUT_MS: z.coerce.number().int().min(1).max(10_000).default(50),
  CACHE_MAX_ENTRIES: z.coerce.number().int().min(1).default(10_000),
  CACHE_MAX_BYTES: bytes.default(64 * 1024 * 1024),
  // Up to 256: the chart's records:<namespace>/<release's full name>: reaches 136 (63 + 63 + 10).
  CACHE_KEY_PREFIX: z.string().min(1).max(256).default('records:'),
  AUTH_MODE: z.enum(['required', 'disabled']).default('required'),
  AUTH_ISSUERS: z.string().optional(),
  AUTH_ISSUERS_FILE: z.string().min(1).optional(),
  AUTH_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(10),
  AUTH_JWKS_CACHE_SECONDS: z.coerce.number().int().min(1).max(86_400).default(600),
  AUTH_JWKS_REQUESTS_PER_MINUTE: z.coerce.number().int().min(1).max(600).default(10),
  AUTH_JWKS_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(2000),
  // A stolen token is a key for as long as it lives: longer-lived ones are refused, whoever signed them.
  AUTH_MAX_TOKEN_LIFETIME_SECONDS: z.coerce.number().int().min(60).max(30 * 86_400).default(86_400),
  SERVICE_NAME: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lower-case letters, digits and dashes').default('records'),
  SERVICE_ISSUER: z.url().optional(),
  SERVICE_KEY_FILE: z.string().min(1).optional(),
  REQUEST_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
  SHUTDOWN_DRAIN_SECONDS: z.coerce.number().min(0).max(300).default(5),
  SHUTDOWN_TIMEOUT_SECONDS: z.coerce.number().min(1).max(600).default(20),
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
  LOG_LEVEL: logLevel,
});

export type Config = {
  port: number;
  /** Undefined: every address, IPv6 and IPv4 alike. */
  host: string | undefined;
  databaseUrl: string;
  bodyLimit: number;
  ndjson: { bodyLimit: number; maxLineBytes: number };
  insertBatchSize: number;
  bulkConcurrency: number;
  /** Worker threads preparing writes; 0 prepares them on the event loop. */
  writeWorkers: number;
  /** Their CPU priority as a nice value (0-19): they yield to the thread serving reads. */
  writeWorkerNice: number;
  searchTimeLimitMs: number;
  searchesPerCaller: number;
  bodyMinBytesPerSecond: number;
  idempotencyTtlSeconds: number;
  cache: {
    enabled: boolean;
    redisUrl: string | null;
    redisPassword: string | null;
    ttlSeconds: number;
    timeoutMs: number;
    maxEntries: number;
    maxBytes: number;
    keyPrefix: string;
  };
  auth: {
    mode: 'required' | 'disabled';
    issuers: TrustedIssuer[];
    clockToleranceSeconds: number;
    jwksCacheSeconds: number;
    jwksRequestsPerMinute: number;
    jwksTimeoutMs: number;
    maxTokenLifetimeSeconds: number;
  };
  /** This service as a token issuer (for calls it makes, and `records token`). */
  identity: { name: string; issuer: string | null; keyFile: string | null };
  requestTimeoutSeconds: number;
  shutdown: { drainSeconds: number; timeoutSeconds: number };
  logLevel: LogLevel;
  logFormat: 'json' | 'pretty';
};

export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const values = parseEnvironment(schema, env);
  // Ignored without a Redis: the cache was silently per pod, or off, with nothing saying why.
  refuseWithout(values, 'REDIS_PASSWORD', 'REDIS_URL');
  const issuers = loadIssuers(values.AUTH_ISSUERS, values.AUTH_ISSUERS_FILE);
  return {
    port: values.PORT,
    host: values.HOST,
    databaseUrl: withPassword(values.DATABASE_URL, values.DATABASE_PASSWORD),
    bodyLimit: values.BODY_LIMIT,
    ndjson: { bodyLimit: values.NDJSON_BODY_LIMIT, maxLineBytes: values.NDJSON_MAX_LINE_BYTES },
    insertBatchSize: values.INSERT_BATCH_SIZE,
    bulkConcurrency: values.BULK_CONCURRENCY,
    writeWorkers: values.WRITE_WORKERS,
    writeWorkerNice: values.WRITE_WORKER_NICE,
    searchTimeLimitMs: values.SEARCH_TIME_LIMIT_MS,
    searchesPerCaller: values.SEARCHES_PER_CALLER,
    bodyMinBytesPerSecond: values.BODY_MIN_BYTES_PER_SECOND,
    idempotencyTtlSeconds: values.IDEMPOTENCY_TTL_SECONDS,
    cache: {
      enabled: values.CACHE === 'on',
      redisUrl: values.REDIS_URL ?? null,
      redisPassword: values.REDIS_PASSWORD ?? null,
      ttlSeconds: values.CACHE_TTL_SECONDS,
      timeoutMs: values.CACHE_TIMEOUT_MS,
      maxEntries: values.CACHE_MAX_ENTRIES,
      maxBytes: values.CACHE_MAX_BYTES,
      keyPrefix: values.CACHE_KEY_PREFIX,
    },
    auth: {
      mode: values.AUTH_MODE,
      issuers,
      clockToleranceSeconds: values.AUTH_CLOCK_TOLERANCE_SECONDS,
      jwksCacheSeconds: values.AUTH_JWKS_CACHE_SECONDS,
      jwksRequestsPerMinute: values.AUTH_JWKS_REQUESTS_PER_MINUTE,
      jwksTimeoutMs: values.AUTH_JWKS_TIMEOUT_MS,
      maxTokenLifetimeSeconds: values.AUTH_MAX_TOKEN_LIFETIME_SECONDS,
    },
    identity: { name: values.SERVICE_NAME, issuer: values.SERVICE_ISSUER ?? null, keyFile: values.SERVICE_KEY_FILE ?? null },
    requestTimeoutSeconds: values.REQUEST_TIMEOUT_SECONDS,
    shutdown: { drainSeconds: values.SHUTDOWN_DRAIN_SECONDS, timeoutSeconds: values.SHUTDOWN_TIMEOUT_SECONDS },
    logLevel: values.LOG_LEVEL,
    logFormat: values.LOG_FORMAT,
  };
}

/** DATABASE_PASSWORD, when set, replaces the password of a mysql:// DATABASE_URL. */
function withPassword(databaseUrl: string, password: string | undefined): string {
  if (password === undefined) return databaseUrl;
  if (engineOf(databaseUrl) !== 'mysql') {
    throw invalidVariable('DATABASE_PASSWORD', 'only applies to a mysql:// DATABASE_URL');
  }
  const url = new URL(databaseUrl);
  url.password = encodeURIComponent(password);
  return url.toString();
}

/**
 * With no trusted issuers, the service trusts its own: tokens it mints (`records token`) with its
 * signing key, audience SERVICE_NAME. That is what makes an install with no values usable.
 */
export function trustsOnlyItself(config: Config): boolean {
  return config.auth.mode === 'required' && config.auth.issuers.length === 0;
}

/** Serving requests needs more than migrating does: with AUTH_MODE=required, someone to trust. */
export function assertServable(config: Config, hasSigningKey: boolean): void {
  if (trustsOnlyItself(config) && !(hasSigningKey && config.identity.issuer)) {
    throw new ConfigError(
      'invalid configuration:\n  AUTH_ISSUERS: at least one trusted issuer is required when AUTH_MODE=required, or SERVICE_KEY_FILE and SERVICE_ISSUER so the service trusts its own tokens (AUTH_MODE=disabled is for local development only)',
    );
  }
}
