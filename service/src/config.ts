import { readFileSync } from 'node:fs';
import type { TrustedIssuer } from './auth/token-verifier.js';
import { engineOf } from './data/engine.js';
import { z } from 'zod';

/** The only module that reads the environment. A bad value stops start-up naming the variable. */

const UNITS: Record<string, number> = { '': 1, b: 1, kb: 1000, kib: 1024, mb: 1000 ** 2, mib: 1024 ** 2, gb: 1000 ** 3, gib: 1024 ** 3 };

const bytes = z.string().transform((text, ctx) => {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = UNITS[match?.[2]?.toLowerCase() ?? 'invalid'];
  const value = match && unit ? Math.floor(Number(match[1]) * unit) : NaN;
  if (!Number.isSafeInteger(value) || value < 1) {
    ctx.addIssue({ code: 'custom', message: 'must be a size such as 10485760, 10mb or 10MiB' });
    return z.NEVER;
  }
  return value;
});

/** The default JSON body limit; Kong's request-size-limiting must not exceed it (kong/ tests import this). */
export const DEFAULT_BODY_LIMIT_BYTES = 10 * 1024 * 1024;

const port = z.coerce.number().int().min(0).max(65535);
const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');

/** Parses the environment with `shape`; empty variables count as unset, as in most twelve-factor tooling. */
function parseEnvironment<Shape extends z.ZodType>(shape: Shape, env: NodeJS.ProcessEnv): z.infer<Shape> {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = shape.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return parsed.data;
}

const schema = z.object({
  PORT: port.default(8000),
  HOST: z.string().min(1).default('0.0.0.0'),
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
  NDJSON_BODY_LIMIT: bytes.default(1024 ** 3),
  NDJSON_MAX_LINE_BYTES: bytes.default(64 * 1024),
  IDEMPOTENCY_TTL_SECONDS: z.coerce.number().int().min(1).max(30 * 86_400).default(86_400),
  // Rows per multi-row INSERT; 6 bound values per row stays under SQLite's 32766-variable limit.
  INSERT_BATCH_SIZE: z.coerce.number().int().min(1).max(5000).default(500),
  BULK_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
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
  CACHE_KEY_PREFIX: z.string().min(1).max(64).default('records:'),
  AUTH_MODE: z.enum(['required', 'disabled']).default('required'),
  AUTH_ISSUERS: z.string().optional(),
  AUTH_ISSUERS_FILE: z.string().min(1).optional(),
  AUTH_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(10),
  AUTH_JWKS_CACHE_SECONDS: z.coerce.number().int().min(1).max(86_400).default(600),
  AUTH_JWKS_REQUESTS_PER_MINUTE: z.coerce.number().int().min(1).max(600).default(10),
  AUTH_JWKS_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(2000),
  SERVICE_NAME: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lower-case letters, digits and dashes').default('records'),
  SERVICE_ISSUER: z.url().optional(),
  SERVICE_KEY_FILE: z.string().min(1).optional(),
  REQUEST_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
  SHUTDOWN_DRAIN_SECONDS: z.coerce.number().min(0).max(300).default(5),
  SHUTDOWN_TIMEOUT_SECONDS: z.coerce.number().min(1).max(600).default(20),
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
  LOG_LEVEL: logLevel,
});

const trustedIssuers = z
  .array(
    z.strictObject({
      issuer: z.string().min(1),
      jwksUri: z.url({ protocol: /^https?$/ }),
      audience: z.string().min(1),
    }),
  )
  .refine((list) => new Set(list.map((entry) => entry.issuer)).size === list.length, 'issuers must be unique');


export type Config = {
  port: number;
  host: string;
  databaseUrl: string;
  bodyLimit: number;
  ndjson: { bodyLimit: number; maxLineBytes: number };
  insertBatchSize: number;
  bulkConcurrency: number;
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
  };
  /** This service as a token issuer (for calls it makes, and `records token`). */
  identity: { name: string; issuer: string | null; keyFile: string | null };
  requestTimeoutSeconds: number;
  shutdown: { drainSeconds: number; timeoutSeconds: number };
  logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  logFormat: 'json' | 'pretty';
};

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const values = parseEnvironment(schema, env);
  const issuers = loadIssuers(values.AUTH_ISSUERS, values.AUTH_ISSUERS_FILE);
  return {
    port: values.PORT,
    host: values.HOST,
    databaseUrl: withPassword(values.DATABASE_URL, values.DATABASE_PASSWORD),
    bodyLimit: values.BODY_LIMIT,
    ndjson: { bodyLimit: values.NDJSON_BODY_LIMIT, maxLineBytes: values.NDJSON_MAX_LINE_BYTES },
    insertBatchSize: values.INSERT_BATCH_SIZE,
    bulkConcurrency: values.BULK_CONCURRENCY,
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
    throw new ConfigError('invalid configuration:\n  DATABASE_PASSWORD: only applies to a mysql:// DATABASE_URL');
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

/** Trusted issuers from AUTH_ISSUERS (JSON) and/or AUTH_ISSUERS_FILE (a JSON file, e.g. a mounted ConfigMap). */
function loadIssuers(inline: string | undefined, file: string | undefined): TrustedIssuer[] {
  const read = (name: string, text: () => string): TrustedIssuer[] => {
    let json: unknown;
    try {
      json = JSON.parse(text());
    } catch (error) {
      throw new ConfigError(`invalid configuration:\n  ${name}: ${(error as Error).message}`);
    }
    const parsed = trustedIssuers.safeParse(json);
    if (!parsed.success) {
      const detail = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(list)'} ${issue.message}`).join('; ');
      throw new ConfigError(`invalid configuration:\n  ${name}: must be a JSON list of {"issuer", "jwksUri", "audience"}: ${detail}`);
    }
    return parsed.data;
  };
  const all = [
    ...(inline ? read('AUTH_ISSUERS', () => inline) : []),
    ...(file ? read('AUTH_ISSUERS_FILE', () => readFileSync(file, 'utf8')) : []),
  ];
  if (new Set(all.map((entry) => entry.issuer)).size !== all.length) {
    throw new ConfigError('invalid configuration:\n  AUTH_ISSUERS: an issuer is listed twice');
  }
  return all;
}

/** `records kong-sync`, the sidecar that keeps Kong's consumers in step with the issuers' JWKS. */
const kongSyncSchema = z.object({
  KONG_SYNC_ISSUERS: z.string().min(1),
  KONG_SYNC_BASE_CONFIG: z.string().min(1).default('/kong_dbless/kong.yml'),
  KONG_SYNC_ADMIN_URL: z.url({ protocol: /^https?$/ }).default('https://127.0.0.1:8444'),
  KONG_SYNC_INTERVAL_SECONDS: z.coerce.number().int().min(5).max(3600).default(60),
  KONG_SYNC_OVERLAP_SECONDS: z.coerce.number().int().min(0).max(30 * 86_400).default(3600),
  KONG_SYNC_METRICS_PORT: port.default(9542),
  KONG_SYNC_REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/[^/]+/, 'must be redis://host:port[/db] or rediss://...')
    .optional(),
  KONG_SYNC_REDIS_PASSWORD: z.string().min(1).optional(),
  LOG_LEVEL: logLevel,
});

const syncIssuers = z
  .array(z.strictObject({ consumer: z.string().regex(/^[a-z0-9][a-z0-9-]*$/), jwksUri: z.url({ protocol: /^https?$/ }) }))
  .min(1);

export type KongSyncConfig = {
  issuers: z.infer<typeof syncIssuers>;
  baseConfigFile: string;
  adminUrl: string;
  intervalSeconds: number;
  overlapSeconds: number;
  metricsPort: number;
  redis: { url: string; password: string | null } | null;
  logLevel: Config['logLevel'];
};

export function loadKongSyncConfig(env: NodeJS.ProcessEnv): KongSyncConfig {
  const values = parseEnvironment(kongSyncSchema, env);
  let issuers: KongSyncConfig['issuers'];
  try {
    issuers = syncIssuers.parse(JSON.parse(values.KONG_SYNC_ISSUERS));
  } catch (error) {
    throw new ConfigError(`invalid configuration:\n  KONG_SYNC_ISSUERS: must be a JSON list of {"consumer", "jwksUri"}: ${(error as Error).message.slice(0, 300)}`);
  }
  return {
    issuers,
    baseConfigFile: values.KONG_SYNC_BASE_CONFIG,
    adminUrl: values.KONG_SYNC_ADMIN_URL,
    intervalSeconds: values.KONG_SYNC_INTERVAL_SECONDS,
    overlapSeconds: values.KONG_SYNC_OVERLAP_SECONDS,
    metricsPort: values.KONG_SYNC_METRICS_PORT,
    redis: values.KONG_SYNC_REDIS_URL ? { url: values.KONG_SYNC_REDIS_URL, password: values.KONG_SYNC_REDIS_PASSWORD ?? null } : null,
    logLevel: values.LOG_LEVEL,
  };
}
