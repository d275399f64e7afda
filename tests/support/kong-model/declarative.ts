/**
 * A whole declarative file as Kong 3.9.3 reads it DB-less: the top-level keys, entities nested
 * under their parents, and the checks across entities (unique names and keys, one plugin of a kind
 * per scope, references that resolve).
 */
import { check, isDict, join } from './check.js';
import { consumer, FOREIGN_KEYS, jwtSecret, nested, route, service, withChildren } from './entities.js';
import type { Dict, Field } from './fields.js';
import { normalizePath } from './paths.js';
import { pluginEntity } from './plugin-entity.js';
import { PLUGIN_MODELS } from './plugins/index.js';
import { array, boolean, COMMENT_FIELDS, record, string } from './typedefs.js';

/** Collections Kong knows that the project does not use: refused until modelled, rather than passed unchecked. */
const UNMODELLED = ['workspaces', 'certificates', 'snis', 'upstreams', 'targets', 'ca_certificates', 'clustering_data_planes', 'parameters', 'vaults', 'key_sets', 'keys', 'filter_chains', 'ratelimiting_metrics'];

function documentSchema(loadedPlugins: readonly string[]) {
  const plugin = pluginEntity(loadedPlugins);
  const nestedPlugins = { plugins: nested(plugin, 'plugins') };
  const routeWithPlugins = withChildren(route, nestedPlugins);
  const notModelled: Field = { type: 'any', onlyNull: "Kong knows this collection, but the project's model of Kong does not: model it before using it" };
  return record({
    _format_version: string({ required: true, oneOf: ['1.1', '2.1', '3.0'] }),
    _transform: boolean({ default: true }),
    ...COMMENT_FIELDS,
    services: array(withChildren(service, { routes: nested(routeWithPlugins, 'routes'), ...nestedPlugins })),
    routes: array(routeWithPlugins),
    consumers: array(withChildren(consumer, { ...nestedPlugins, jwt_secrets: nested(jwtSecret, 'jwt_secrets') })),
    plugins: array(plugin),
    jwt_secrets: array(jwtSecret),
    ...Object.fromEntries(UNMODELLED.map((key) => [key, notModelled])),
  });
}

/**
 * Files of format 1.1 and 2.1 wrote regex paths without `~`: Kong marks every path that is not
 * made of plain path characters as a regex, and normalizes the others, before reading the file as
 * 3.0. (Kong also decodes some %-escapes inside those regexes; the model leaves them as written.)
 */
function upgradeRoutePaths(document: Dict): Dict {
  if (document._format_version !== '1.1' && document._format_version !== '2.1') return document;
  const upgraded = structuredClone(document);
  const routes = [...(Array.isArray(upgraded.routes) ? upgraded.routes : []), ...(Array.isArray(upgraded.services) ? upgraded.services.flatMap((s: Dict) => (Array.isArray(s?.routes) ? s.routes : [])) : [])];
  for (const entry of routes) {
    if (!isDict(entry) || !Array.isArray(entry.paths)) continue;
    entry.paths = entry.paths.map((path: unknown) => (typeof path !== 'string' ? path : /^[A-Za-z0-9.\-_~/%]*$/.test(path) ? normalizePath(path) : `~${path}`));
  }
  upgraded._format_version = '3.0';
  return upgraded;
}

interface Found {
  collection: string;
  path: string;
  entity: Dict;
  /** The parent an entity is nested under, which is its foreign key. */
  parent?: { field: string; key: unknown };
}

/** Every entity of the file, top level and nested, with where it is written. */
function entitiesOf(document: Dict): Found[] {
  const found: Found[] = [];
  const visit = (collection: string, list: unknown, path: string, parent?: Found['parent']) => {
    if (!Array.isArray(list)) return;
    list.forEach((entity, index) => {
      if (!isDict(entity)) return;
      const at = join(join(path, collection), index);
      found.push({ collection, path: at, entity, parent });
      const key = (entity.id ?? entity.name ?? entity.username) as unknown;
      for (const [child, links] of Object.entries(FOREIGN_KEYS)) {
        const field = Object.entries(links).find(([, target]) => target === collection)?.[0];
        if (field) visit(child, entity[child], at, { field, key });
      }
    });
  };
  for (const collection of ['services', 'routes', 'consumers', 'plugins', 'jwt_secrets']) visit(collection, document[collection], '');
  return found;
}

/** The fields Kong holds unique across the file, per collection. */
const UNIQUE: Record<string, string[]> = {
  services: ['id', 'name'],
  routes: ['id', 'name'],
  consumers: ['id', 'username', 'custom_id'],
  plugins: ['id', 'instance_name'],
  jwt_secrets: ['id', 'key'],
};

function uniqueness(found: Found[]): string[] {
  const problems: string[] = [];
  const first = new Map<string, string>();
  for (const { collection, path, entity } of found) {
    for (const field of UNIQUE[collection] ?? []) {
      const value = entity[field];
      if (typeof value !== 'string') continue;
      const key = `${collection}.${field}=${value}`;
      const earlier = first.get(key);
      if (earlier) problems.push(`${join(path, field)}: '${value}' is already the ${field} of ${earlier}; Kong holds ${collection} ${field}s unique across the file`);
      else first.set(key, path);
    }
  }
  return problems;
}

/** A plugin applies once per scope (route, service, consumer, or global): Kong derives its id from that. */
function onePluginPerScope(found: Found[]): string[] {
  const problems: string[] = [];
  const first = new Map<string, string>();
  for (const { collection, path, entity, parent } of found) {
    if (collection !== 'plugins' || typeof entity.name !== 'string') continue;
    // A parent without a name or id gets a random id, so Kong cannot tell its plugins apart here.
    if (parent && parent.key === undefined) continue;
    const scope = ['route', 'service', 'consumer'].map((field) => `${field}=${String(parent?.field === field ? parent.key : (entity[field] ?? ''))}`).join(',');
    const key = `${entity.name}|${scope}`;
    const earlier = first.get(key);
    if (earlier) problems.push(`${join(path, 'name')}: a second ${entity.name} plugin for the same scope as ${earlier}`);
    else first.set(key, path);
  }
  return problems;
}

/** Nesting a plugin under a consumer scopes it to that consumer, which some plugins refuse. */
function consumerScoped(found: Found[]): string[] {
  return found
    .filter(({ collection, entity, parent }) => collection === 'plugins' && parent?.field === 'consumer' && PLUGIN_MODELS[String(entity.name)]?.noConsumer)
    .map(({ path, entity }) => `${path}: ${String(entity.name)} cannot be scoped to a consumer (it is nested under one)`);
}

/** Top-level entities name their parent by its name (username for a consumer) or id, which must exist in the file. */
function references(found: Found[]): string[] {
  const keysOf = (collection: string) => new Set(found.filter((item) => item.collection === collection).flatMap(({ entity }) => [entity.id, entity.name, entity.username].filter((key) => typeof key === 'string')));
  return found.flatMap(({ collection, path, entity, parent }) =>
    parent ? [] : Object.entries(FOREIGN_KEYS[collection] ?? {}).flatMap(([field, target]) => {
      const value = entity[field];
      return typeof value === 'string' && !keysOf(target).has(value) ? [`${join(path, field)}: no entry of ${target} has the name or id '${value}'`] : [];
    }),
  );
}

export function declarativeProblems(document: unknown, loadedPlugins: readonly string[]): string[] {
  const problems: string[] = [];
  const source = isDict(document) ? upgradeRoutePaths(document) : document;
  const checked = check(documentSchema(loadedPlugins), source, '', problems);
  if (!isDict(checked)) return problems;
  const found = entitiesOf(checked);
  return [...problems, ...uniqueness(found), ...onePluginPerScope(found), ...consumerScoped(found), ...references(found)];
}
