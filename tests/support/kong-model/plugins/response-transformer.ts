/** Kong 3.9.3's response-transformer plugin, in the project's model. */
import { array, httpProtocols, record, string } from '../typedefs.js';
import type { PluginModel } from './model.js';

const colonPair = string({ check: (value) => (/^[^:]+:.*$/.test(value) ? undefined : `'${value}' must be name:value`) });
const headerToken = /^[A-Za-z0-9_-]+$/;
/** A rename of headers: both names must be header names. */
const headerRename = string({
  check: (value) => {
    const [from, ...rest] = value.split(':');
    const to = rest.join(':');
    if (!/^[^:]+:.*$/.test(value)) return `'${value}' must be old:new`;
    const bad = [from, to].find((name) => !headerToken.test(name ?? ''));
    return bad === undefined ? undefined : `'${bad}' is not a valid header name`;
  },
});
const list = (element = string()) => array(element, { required: true, default: [] });
const jsonTypes = list(string({ oneOf: ['boolean', 'number', 'string'] }));
const changes = () => record({ json: list(colonPair), json_types: jsonTypes, headers: list(colonPair) });

export const responseTransformer: PluginModel = {
  protocols: httpProtocols,
  config: record({
    remove: record({ json: list(), headers: list() }),
    rename: record({ json: list(colonPair), headers: list(headerRename) }),
    replace: changes(),
    add: changes(),
    append: changes(),
  }),
};
