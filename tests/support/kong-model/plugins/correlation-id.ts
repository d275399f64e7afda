/** Kong 3.9.3's correlation-id plugin, in the project's model. */
import { boolean, httpProtocols, record, string } from '../typedefs.js';
import type { PluginModel } from './model.js';

export const correlationId: PluginModel = {
  protocols: httpProtocols,
  config: record({
    // Any non-empty name: Kong does not check header syntax here.
    header_name: string({ default: 'Kong-Request-ID' }),
    generator: string({ required: true, default: 'uuid#counter', oneOf: ['uuid', 'uuid#counter', 'tracker'] }),
    echo_downstream: boolean({ required: true, default: false }),
  }),
};
