/**
 * The project's model of Kong 3.9.3's schemas: the entities and plugins this project's declarative
 * configs use, field by field, and the checks Kong runs across a DB-less file. Kong itself cannot run
 * on these machines (docs/gateway.md says why), so this model is what `make kong-check` holds the
 * configs to; tests/static/kong-model.test.ts holds the model to what Kong 3.9.3 accepts and refuses.
 */
import { declarativeProblems } from './declarative.js';
import { PLUGIN_MODELS } from './plugins/index.js';

export { KONG_MODEL_VERSION } from './version.js';

/** The plugins the model has a schema for. */
export const MODELLED_PLUGINS = Object.keys(PLUGIN_MODELS);

/**
 * What Kong would refuse in this declarative config, one `<field path>: <why>` each (empty when it
 * would load it). `loadedPlugins` is KONG_PLUGINS (by default every modelled plugin).
 */
export function kongModelProblems(config: unknown, loadedPlugins: readonly string[] = MODELLED_PLUGINS): string[] {
  return declarativeProblems(config, loadedPlugins);
}
