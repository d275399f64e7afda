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

const port = z.coerce.number().int().min(0).max(65535);

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
  BODY_LIMIT: bytes.default(10 * 1024 * 1024),
  // Rows per multi-row INSERT; 6 bound values per row stays under SQLite's 32766-variable limit.
  INSERT_BATCH_SIZE: z.coerce.number().int().min(1).max(5000).default(500),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = {
  port: number;
  host: string;
  databaseUrl: string;
  bodyLimit: number;
  insertBatchSize: number;
  logLevel: z.infer<typeof schema>['LOG_LEVEL'];
};

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv): Config {
  // Empty variables count as unset, as in most twelve-factor tooling.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const values = parsed.data;
  return {
    port: values.PORT,
    host: values.HOST,
    databaseUrl: values.DATABASE_URL,
    bodyLimit: values.BODY_LIMIT,
    insertBatchSize: values.INSERT_BATCH_SIZE,
    logLevel: values.LOG_LEVEL,
  };
}
