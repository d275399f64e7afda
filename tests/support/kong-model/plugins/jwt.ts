/** Kong 3.9.3's jwt plugin, in the project's model. */
import type { Finding } from '../fields.js';
import { boolean, httpProtocols, number, record, set, string } from '../typedefs.js';
import type { PluginModel } from './model.js';

export const jwt: PluginModel = {
  noConsumer: true,
  protocols: httpProtocols,
  config: record(
    {
      uri_param_names: set(string(), { default: ['jwt'] }),
      cookie_names: set(string(), { default: [] }),
      header_names: set(string(), { default: ['authorization'] }),
      key_claim_name: string({ default: 'iss' }),
      secret_is_base64: boolean({ required: true, default: false }),
      claims_to_verify: set(string({ oneOf: ['exp', 'nbf'] })),
      anonymous: string(),
      run_on_preflight: boolean({ required: true, default: true }),
      maximum_expiration: number({ default: 0, between: [0, 31_536_000] }),
      realm: string(),
    },
    {
      checks: [
        // A maximum lifetime is measured from exp; Kong checks this only when claims_to_verify is given at all.
        (config): Finding[] =>
          typeof config.maximum_expiration === 'number' && config.maximum_expiration > 0 && Array.isArray(config.claims_to_verify) && !config.claims_to_verify.includes('exp')
            ? [['claims_to_verify', 'must include exp when maximum_expiration is set']]
            : [],
      ],
    },
  ),
};
