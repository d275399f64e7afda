import { z } from 'zod';

/** This machine's own addresses: what no one else on the network can answer for. */
export const isLoopbackHost = (hostname: string): boolean => ['127.0.0.1', '[::1]', 'localhost'].includes(hostname);

/**
 * A Service of this cluster, `<name>.<namespace>.svc[.cluster.local]`: reached without leaving it
 * when it is a ClusterIP Service (an ExternalName one points elsewhere: docs/auth.md says to use none).
 */
const CLUSTER_SERVICE = /^[a-z0-9-]+\.[a-z0-9-]+\.svc(\.cluster\.local)?$/;

/** Whether plain http to `hostname` stays where no one outside can read or change it: loopback, or a cluster Service. */
export const isPrivateHop = (hostname: string): boolean => isLoopbackHost(hostname) || CLUSTER_SERVICE.test(hostname);

/**
 * Where an issuer's keys may be fetched from, by the service and by Kong's sidecar alike (the two
 * must trust the same issuers). Plain http only where no one outside can tamper with it: this pod's
 * loopback, or a Service in the cluster (another release's JWKS). Elsewhere, keys swapped on the way
 * would let whoever swapped them mint any token.
 */
export const jwksUri = z.url({ protocol: /^https?$/ }).refine((uri) => {
  const url = new URL(uri);
  return url.protocol === 'https:' || isPrivateHop(url.hostname);
}, 'must be https:// (plain http only on loopback or to a cluster Service, <name>.<namespace>.svc[.cluster.local])');
