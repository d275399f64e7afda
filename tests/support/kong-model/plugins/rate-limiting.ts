/** Kong 3.9.3's rate-limiting plugin as loaded DB-less, in the project's model. */
import { atLeastOneOf } from '../check.js';
import type { Dict, Finding, Shorthand } from '../fields.js';
import { boolean, headerName, host, httpProtocols, integer, number, path, port, record, serverName, string, timeout } from '../typedefs.js';
import type { PluginModel } from './model.js';

const PERIODS = ['second', 'minute', 'hour', 'day', 'month', 'year'] as const;
/** The value of sync_rate that means: count in Redis on every request. */
const SYNC_EVERY_REQUEST = -1;

/** The Redis record of 3.9 OSS: no connect/send/read timeouts, sentinel or cluster settings (those are Enterprise's). */
const redis = record({
  host,
  port: { ...port, default: 6379 },
  timeout: timeout(2000),
  username: string({ referenceable: true }),
  password: string({ referenceable: true, minLength: 0 }),
  database: integer({ default: 0 }),
  ssl: boolean({ default: false }),
  ssl_verify: boolean({ default: false }),
  server_name: serverName,
}, { default: {} });

/** The flat redis_* names Kong 3.9 still reads, each moved into `redis`. */
const redisShorthands: Record<string, Shorthand> = Object.fromEntries(
  ([
    ['host', string()], ['port', integer()], ['password', string({ minLength: 0 })], ['username', string()], ['ssl', boolean()],
    ['ssl_verify', boolean()], ['server_name', string()], ['timeout', integer()], ['database', integer()],
  ] as const).map(([name, field]) => [`redis_${name}`, { field, movesTo: ['redis', name] }]),
);

/** A longer period may not allow fewer requests than a shorter one. */
function periodsGrow(config: Dict): Finding[] {
  const set = PERIODS.filter((period) => typeof config[period] === 'number');
  for (const [index, shorter] of set.entries()) {
    const longer = set.slice(index + 1).find((candidate) => (config[candidate] as number) < (config[shorter] as number));
    if (longer) return [[longer, `${String(config[longer])} is below the limit for ${shorter} (${String(config[shorter])})`]];
  }
  return [];
}

function syncRate(config: Dict): Finding[] {
  const rate = config.sync_rate;
  if (typeof rate !== 'number' || rate === SYNC_EVERY_REQUEST) return [];
  if (config.policy !== 'redis') return [['sync_rate', 'can only be set with policy redis']];
  return rate < 0.02 ? [['sync_rate', 'must be at least 0.02, or -1 to sync on every request']] : [];
}

const requiredWith = (field: string, condition: (config: Dict) => boolean, why: string) => (config: Dict): Finding[] => {
  const value = field.split('.').reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Dict)[key] : undefined), config);
  return condition(config) && (value === undefined || value === null) ? [[field, `required ${why}`]] : [];
};

export const rateLimiting: PluginModel = {
  protocols: httpProtocols,
  config: record(
    {
      ...Object.fromEntries(PERIODS.map((period) => [period, number({ above: 0 })])),
      // consumer-group is Enterprise's.
      limit_by: string({ default: 'consumer', oneOf: ['consumer', 'credential', 'ip', 'service', 'header', 'path'] }),
      header_name: headerName,
      path,
      // DB-less: the cluster policy needs a database, so Kong does not offer it.
      policy: string({ default: 'local', minLength: 0, oneOf: ['local', 'redis'] }),
      fault_tolerant: boolean({ required: true, default: true }),
      redis,
      hide_client_headers: boolean({ required: true, default: false }),
      error_code: number({ default: 429, above: 0 }),
      error_message: string({ default: 'API rate limit exceeded' }),
      sync_rate: number({ required: true, default: SYNC_EVERY_REQUEST }),
    },
    {
      shorthands: redisShorthands,
      checks: [
        atLeastOneOf(...PERIODS),
        periodsGrow,
        syncRate,
        requiredWith('redis.host', (config) => config.policy === 'redis', 'with policy redis'),
        requiredWith('redis.port', (config) => config.policy === 'redis', 'with policy redis'),
        requiredWith('redis.timeout', (config) => config.policy === 'redis', 'with policy redis'),
        requiredWith('header_name', (config) => config.limit_by === 'header', 'with limit_by header'),
        requiredWith('path', (config) => config.limit_by === 'path', 'with limit_by path'),
      ],
    },
  ),
};
