/**
 * The staging config the cases of tests/static/kong-model.test.ts change, and where things sit in
 * it: the field paths the model must name, and the parts a case changes.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

const STAGING = 'kong/generated/staging/kong.yaml';
export const base = parse(readFileSync(STAGING, 'utf8'));

// Where things sit in the staging config; looked up so that a reordered config keeps the cases meaningful.
export const globalIndex = (name: string) => base.plugins.findIndex((plugin: any) => plugin.name === name);
const routePluginIndex = (route: number, name: string) => base.services[0].routes[route].plugins.findIndex((plugin: any) => plugin.name === name);
export const G = (name: string) => `plugins[${globalIndex(name)}]`;
export const R = (route: number) => `services[0].routes[${route}]`;
export const RP = (route: number, name: string) => `${R(route)}.plugins[${routePluginIndex(route, name)}]`;
export const RL = `${RP(0, 'rate-limiting')}.config`;
export const OTEL = `${G('opentelemetry')}.config`;
export const CORS = `${G('cors')}.config`;
export const SECRET = 'consumers[0].jwt_secrets[0]';

export const route = (c: any, index = 0) => c.services[0].routes[index];
export const routePlugin = (c: any, index: number, name: string) => route(c, index).plugins.find((plugin: any) => plugin.name === name).config;
export const limits = (c: any) => routePlugin(c, 0, 'rate-limiting');
export const jwtConfig = (c: any) => routePlugin(c, 0, 'jwt');
export const global = (c: any, name: string) => c.plugins.find((plugin: any) => plugin.name === name).config;
export const otel = (c: any) => global(c, 'opentelemetry');
export const secret = (c: any) => c.consumers[0].jwt_secrets[0];
export const otherConsumer = (c: any) => ({ ...structuredClone(c.consumers[0]), username: 'second-issuer' });
export const EC_KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
