import { existsSync, readFileSync } from 'node:fs';
import { requestJson, type JsonResponse } from './json-request.js';

/** The Kubernetes API, as a pod reaches it with its service account. */

export type KubernetesApi = { url: string; token: string; ca?: Buffer };

/** Where a pod's service account is mounted. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * The API server and credentials of the pod this runs in (host and port as the kubelet sets them in
 * the environment, which the caller's config reads); null outside a pod.
 */
export function inClusterApi(host: string | undefined, port: string): { api: KubernetesApi; namespace: string } | null {
  if (!host || !existsSync(`${SERVICE_ACCOUNT_DIR}/token`)) return null;
  return {
    api: {
      url: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
      token: readFileSync(`${SERVICE_ACCOUNT_DIR}/token`, 'utf8').trim(),
      ca: readFileSync(`${SERVICE_ACCOUNT_DIR}/ca.crt`),
    },
    namespace: readFileSync(`${SERVICE_ACCOUNT_DIR}/namespace`, 'utf8').trim(),
  };
}

export function callKubernetes(api: KubernetesApi, method: string, path: string, body?: unknown, contentType?: string): Promise<JsonResponse> {
  return requestJson({ method, url: new URL(path, api.url), body, contentType, headers: { authorization: `Bearer ${api.token}` }, ca: api.ca });
}
