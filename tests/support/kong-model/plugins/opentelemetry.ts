/** Kong 3.9.3's opentelemetry plugin, in the project's model. */
import { atLeastOneOf } from '../check.js';
import type { Field } from '../fields.js';
import { array, headerName, httpProtocols, integer, number, queue, record, string, timeout, url } from '../typedefs.js';
import type { PluginModel } from './model.js';

/** The trace context formats of 3.9 (instana came later). */
const FORMATS = ['w3c', 'b3', 'b3-single', 'jaeger', 'ot', 'datadog', 'aws', 'gcp'];
// One extractor reads both b3 forms, so b3-single is not a name extract accepts.
const EXTRACTORS = FORMATS.filter((format) => format !== 'b3-single');

const propagation = record(
  {
    extract: array(string({ oneOf: EXTRACTORS })),
    clear: array(headerName),
    inject: array(string({ oneOf: ['preserve', ...FORMATS] })),
    default_format: string({ required: true, oneOf: FORMATS }),
  },
  { default: { default_format: 'w3c' } },
);

const endpoint: Field = url({ referenceable: true });

export const opentelemetry: PluginModel = {
  protocols: httpProtocols,
  config: record(
    {
      traces_endpoint: endpoint,
      logs_endpoint: endpoint,
      headers: { type: 'map', keys: headerName, values: string({ referenceable: true }) },
      resource_attributes: { type: 'map', keys: string(), values: string() },
      queue: queue(200),
      // Deprecated, still read: queue.max_batch_size and queue.max_coalescing_delay replace them.
      batch_span_count: integer(),
      batch_flush_delay: integer(),
      connect_timeout: timeout(1000),
      send_timeout: timeout(5000),
      read_timeout: timeout(5000),
      http_response_header_for_traceid: string(),
      // Deprecated, still read: propagation replaces it.
      header_type: string({ default: 'preserve', oneOf: ['preserve', 'ignore', 'b3', 'b3-single', 'w3c', 'jaeger', 'ot', 'aws', 'gcp', 'datadog'] }),
      sampling_rate: number({ between: [0, 1] }),
      propagation,
    },
    {
      // endpoint is the deprecated name of traces_endpoint.
      shorthands: { endpoint: { field: endpoint, movesTo: ['traces_endpoint'] } },
      checks: [atLeastOneOf('traces_endpoint', 'logs_endpoint')],
    },
  ),
};
