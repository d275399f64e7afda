/** Kong 3.9.3's request-size-limiting plugin, in the project's model. */
import { boolean, httpProtocols, integer, record, string } from '../typedefs.js';
import type { PluginModel } from './model.js';

export const requestSizeLimiting: PluginModel = {
  protocols: httpProtocols,
  config: record({
    // Kong sets no range here: 0 and negative sizes pass the schema.
    allowed_payload_size: integer({ default: 128 }),
    size_unit: string({ required: true, default: 'megabytes', oneOf: ['megabytes', 'kilobytes', 'bytes'] }),
    require_content_length: boolean({ required: true, default: false }),
  }),
};
