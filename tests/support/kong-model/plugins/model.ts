import type { ListField, RecordField } from '../fields.js';

/** A plugin in the project's model: its config record, the protocols it serves, whether it may be scoped to a consumer. */
export interface PluginModel {
  config: RecordField;
  protocols: ListField;
  /** Kong refuses the plugin on a consumer (it runs before any consumer is known). */
  noConsumer?: boolean;
}
