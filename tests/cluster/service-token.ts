import { kubectl, must } from './cluster.js';

/** The records Service as a pod in the cluster reaches it. */
export const SERVICE_URL = 'http://records.records.svc.cluster.local:8000';

/**
 * A token the records service accepts, minted in its Deployment as its NOTES tell a user to, with
 * the command they print (the service trusts the tokens it mints); `subject` names its caller.
 */
export const mintToken = (subject?: string) =>
  must(
    kubectl(['exec', '-n', 'records', 'deploy/records', '--', 'node', 'service/dist/main.js', 'token', '--aud', 'records', '--scope', 'records:read records:write', '--ttl', '3600', ...(subject ? ['--sub', subject] : [])]),
    'minting a token',
  ).trim();
