/**
 * The plugin entity of Kong 3.9.3 in the project's model: its `config` and `protocols` follow the
 * plugin named. A plugin must be loaded (KONG_PLUGINS) and, to be checked at all, modelled here.
 */
import type { Dict, Field, RecordField } from './fields.js';
import { PLUGIN_MODELS } from './plugins/index.js';
import { anyProtocols, boolean, COMMENT_FIELDS, record, reference, string, tags, timestamp, uuid, utf8Name } from './typedefs.js';

export function pluginEntity(loaded: readonly string[]): RecordField {
  const name = string({
    required: true,
    check: (plugin) => {
      if (!loaded.includes(plugin)) return `'${plugin}' is not a loaded plugin (KONG_PLUGINS: ${loaded.join(', ')})`;
      return PLUGIN_MODELS[plugin] ? undefined : `'${plugin}' has no model here: add one under tests/support/kong-model/plugins/`;
    },
  });
  const variant = (raw: Dict): Record<string, Field> => {
    const model = typeof raw.name === 'string' && loaded.includes(raw.name) ? PLUGIN_MODELS[raw.name] : undefined;
    if (!model) return { config: { type: 'any' } };
    return {
      config: { ...model.config, required: true, default: {} },
      protocols: model.protocols,
      ...(model.noConsumer ? { consumer: { type: 'any', onlyNull: 'must not be set: this plugin cannot be scoped to a consumer' } } : {}),
    };
  };
  return record(
    {
      ...COMMENT_FIELDS,
      id: uuid,
      created_at: timestamp,
      updated_at: timestamp,
      name,
      instance_name: utf8Name,
      route: reference(),
      service: reference(),
      consumer: reference(),
      config: { type: 'any' },
      protocols: anyProtocols,
      enabled: boolean({ required: true, default: true }),
      tags,
    },
    { variant },
  );
}
