/** Kong 3.9.3's cors plugin, in the project's model. */
import { pcreCompiles } from '../paths.js';
import { array, boolean, httpProtocols, number, record, string } from '../typedefs.js';
import type { PluginModel } from './model.js';

const METHODS = ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT'];

export const cors: PluginModel = {
  noConsumer: true,
  protocols: httpProtocols,
  config: record({
    // Kong compiles each origin as a regex when the config is read, even those it later compares literally.
    origins: array(string({ check: (origin) => (origin === '*' || pcreCompiles(origin) ? undefined : `'${origin}' is not a valid regex`) })),
    headers: array(string()),
    exposed_headers: array(string()),
    methods: array(string({ oneOf: METHODS }), { default: METHODS }),
    max_age: number(),
    credentials: boolean({ required: true, default: false }),
    private_network: boolean({ required: true, default: false }),
    preflight_continue: boolean({ required: true, default: false }),
  }),
};
