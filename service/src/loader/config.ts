import { z } from 'zod';
import { parseEnvironment } from '../shared/environment.js';

/** `records load`'s defaults from the environment: the service URL and token, when not given as options. */

const schema = z.object({
  RECORDS_URL: z.string().min(1).optional(),
  RECORDS_TOKEN: z.string().min(1).optional(),
});

export type LoaderConfig = { url: string | undefined; token: string | undefined };

export function loadLoaderConfig(env: NodeJS.ProcessEnv): LoaderConfig {
  const values = parseEnvironment(schema, env);
  return { url: values.RECORDS_URL, token: values.RECORDS_TOKEN };
}
