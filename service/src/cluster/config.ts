import { z } from 'zod';
import { parseEnvironment } from '../shared/environment.js';

/** The cluster commands' configuration: where the API server is, as the kubelet tells a pod. */

const schema = z.object({
  KUBERNETES_SERVICE_HOST: z.string().min(1).optional(),
  KUBERNETES_SERVICE_PORT: z.string().regex(/^\d+$/, 'must be a port number').default('443'),
});

export type ClusterConfig = { apiHost: string | undefined; apiPort: string };

export function loadClusterConfig(env: NodeJS.ProcessEnv): ClusterConfig {
  const values = parseEnvironment(schema, env);
  return { apiHost: values.KUBERNETES_SERVICE_HOST, apiPort: values.KUBERNETES_SERVICE_PORT };
}
