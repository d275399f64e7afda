import { inClusterApi, SERVICE_ACCOUNT_DIR } from '../clients/kubernetes.js';
import { commandLine } from '../shared/command-line.js';
import { ConfigError } from '../shared/environment.js';
import { loadClusterConfig } from './config.js';
import { ensureGeneratedSecret, GENERATED_KEYS, type GeneratedKey } from './generated-secret.js';

/** `records init-secret`, the chart's hook that makes its generated Secret (program.ts names it). */
export async function initSecret(argv: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const usage = `usage: records init-secret --name NAME --keys ${GENERATED_KEYS.join(',')}`;
  const { values } = commandLine({ args: argv, options: { name: { type: 'string' }, keys: { type: 'string' } } }, usage);
  const keys = (values.keys ?? '').split(',').filter(Boolean);
  const unknown = keys.filter((key) => !(GENERATED_KEYS as readonly string[]).includes(key));
  if (!values.name || keys.length === 0 || unknown.length > 0) {
    throw new ConfigError(`${usage}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`);
  }
  const config = loadClusterConfig(env);
  const pod = inClusterApi(config.apiHost, config.apiPort);
  if (!pod) {
    throw new ConfigError(`records init-secret runs in a pod: it needs KUBERNETES_SERVICE_HOST (and KUBERNETES_SERVICE_PORT, default 443), which the kubelet sets, and a service account token in ${SERVICE_ACCOUNT_DIR}`);
  }
  const result = await ensureGeneratedSecret(pod.api, { namespace: pod.namespace, name: values.name, keys: keys as GeneratedKey[] });
  console.log(JSON.stringify({ secret: `${pod.namespace}/${values.name}`, ...result }));
}
