import { z } from 'zod';

/**
 * What every program's config shares: reading the environment with a zod schema, the error that
 * stops start-up naming the variable, and the value types more than one program reads.
 */

export class ConfigError extends Error {}

/** The error that stops start-up, naming the variable at fault. */
export const invalidVariable = (name: string, message: string): ConfigError => new ConfigError(`invalid configuration:\n  ${name}: ${message}`);

/** Refuses `dependent` set without `needed`: it would be ignored, and nothing would say so. */
export function refuseWithout(values: Record<string, unknown>, dependent: string, needed: string): void {
  if (values[dependent] !== undefined && values[needed] === undefined) throw invalidVariable(dependent, `set without ${needed}, which it is for`);
}

const UNITS: Record<string, number> = { '': 1, b: 1, kb: 1000, kib: 1024, mb: 1000 ** 2, mib: 1024 ** 2, gb: 1000 ** 3, gib: 1024 ** 3 };

/** A size such as 10485760, 10mb or 10MiB, in bytes. */
export const bytes = z.string().transform((text, ctx) => {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = UNITS[match?.[2]?.toLowerCase() ?? 'invalid'];
  const value = match && unit ? Math.floor(Number(match[1]) * unit) : NaN;
  if (!Number.isSafeInteger(value) || value < 1) {
    ctx.addIssue({ code: 'custom', message: 'must be a size such as 10485760, 10mb or 10MiB' });
    return z.NEVER;
  }
  return value;
});

export const port = z.coerce.number().int().min(0).max(65535);
export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');
export type LogLevel = z.infer<typeof logLevel>;

/** Parses the environment with `shape`; empty variables count as unset, as in most twelve-factor tooling. */
export function parseEnvironment<Shape extends z.ZodType>(shape: Shape, env: NodeJS.ProcessEnv): z.infer<Shape> {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = shape.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return parsed.data;
}

/** A variable holding JSON, checked by `shape`; a bad one names the variable and what it must be. */
export function parseJsonVariable<Shape extends z.ZodType>(name: string, text: string, shape: Shape, what: string): z.infer<Shape> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw invalidVariable(name, (error as Error).message);
  }
  const parsed = shape.safeParse(json);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(list)'} ${issue.message}`).join('; ');
    throw invalidVariable(name, `must be ${what}: ${detail}`);
  }
  return parsed.data;
}
