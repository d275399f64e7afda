/** Kong 3.9.3's prometheus plugin, in the project's model. */
import { anyProtocols, boolean, record } from '../typedefs.js';
import type { PluginModel } from './model.js';

const flag = () => boolean({ default: false });

export const prometheus: PluginModel = {
  protocols: anyProtocols,
  config: record({
    per_consumer: flag(),
    status_code_metrics: flag(),
    ai_metrics: flag(),
    latency_metrics: flag(),
    bandwidth_metrics: flag(),
    upstream_health_metrics: flag(),
  }),
};
