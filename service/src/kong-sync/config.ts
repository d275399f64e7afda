import { z } from 'zod';
import { jwksUri } from '../shared/jwks-uri.js';
import { logLevel, parseEnvironment, parseJsonVariable, port, refuseWithout, type LogLevel } from '../shared/environment.js';

/** `records kong-sync`, the sidecar that keeps Kong's consumers in step with the issuers' JWKS: its configuration. */

const schema = z.object({
  KONG_SYNC_ISSUERS: z.string().min(1),
  KONG_SYNC_BASE_CONFIG: z.string().min(1).default('/kong_dbless/kong.yml'),
  // An origin: the client's paths are absolute (/status, /config), so a path here would be dropped.
  KONG_SYNC_ADMIN_URL: z
    .url({ protocol: /^https?$/ })
    .refine((url) => {
      const { pathname, search, hash } = new URL(url);
      return pathname === '/' && search === '' && hash === '';
    }, 'must be the Admin API\'s origin (scheme, host, port), without a path')
    .default('https://127.0.0.1:8444'),
  KONG_SYNC_INTERVAL_SECONDS: z.coerce.number().int().min(5).max(3600).default(60),
  KONG_SYNC_OVERLAP_SECONDS: z.coerce.number().int().min(0).max(30 * 86_400).default(3600),
  KONG_SYNC_METRICS_PORT: port.default(9542),
  // Every address by default: Prometheus scrapes the pod's IP. Tests give loopback.
  KONG_SYNC_METRICS_HOST: z.string().min(1).optional(),
  KONG_SYNC_REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/[^/]+/, 'must be redis://host:port[/db] or rediss://...')
    .optional(),
  KONG_SYNC_REDIS_PASSWORD: z.string().min(1).optional(),
  LOG_LEVEL: logLevel,
});

const syncIssuers = z
  .array(z.strictObject({ consumer: z.string().regex(/^[a-z0-9][a-z0-9-]*$/), jwksUri }))
  .min(1)
  // One consumer twice collided with its own keys every cycle, and gave Kong one username twice.
  .refine((issuers) => new Set(issuers.map((issuer) => issuer.consumer)).size === issuers.length, 'names a consumer twice; each consumer is listed once');

export type KongSyncConfig = {
  issuers: z.infer<typeof syncIssuers>;
  baseConfigFile: string;
  adminUrl: string;
  intervalSeconds: number;
  overlapSeconds: number;
  metricsPort: number;
  metricsHost: string | undefined;
  redis: { url: string; password: string | null } | null;
  logLevel: LogLevel;
};

export function loadKongSyncConfig(env: NodeJS.ProcessEnv): KongSyncConfig {
  const values = parseEnvironment(schema, env);
  // A password meant for the probe, with nothing to probe, would leave the limiter's Redis unwatched unnoticed.
  refuseWithout(values, 'KONG_SYNC_REDIS_PASSWORD', 'KONG_SYNC_REDIS_URL');
  return {
    issuers: parseJsonVariable('KONG_SYNC_ISSUERS', values.KONG_SYNC_ISSUERS, syncIssuers, 'a JSON list of {"consumer", "jwksUri"}'),
    baseConfigFile: values.KONG_SYNC_BASE_CONFIG,
    adminUrl: values.KONG_SYNC_ADMIN_URL,
    intervalSeconds: values.KONG_SYNC_INTERVAL_SECONDS,
    overlapSeconds: values.KONG_SYNC_OVERLAP_SECONDS,
    metricsPort: values.KONG_SYNC_METRICS_PORT,
    metricsHost: values.KONG_SYNC_METRICS_HOST,
    redis: values.KONG_SYNC_REDIS_URL ? { url: values.KONG_SYNC_REDIS_URL, password: values.KONG_SYNC_REDIS_PASSWORD ?? null } : null,
    logLevel: values.LOG_LEVEL,
  };
}
