/**
 * The Kong configs tooling/kong-config.ts generates (kong/generated/<env>), read back for the Kong
 * tests in tests/static, and the plugins kong/values.yaml loads.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { generatedPath } from '../../tooling/kong-config.js';

type Plugin = { name: string; config: Record<string, any> };
export type Route = { name: string; paths: string[]; methods: string[]; protocols: string[]; hosts?: string[]; strip_path?: boolean; https_redirect_status_code?: number; plugins?: Plugin[] };
export type KongConfig = {
  _format_version: string;
  services: Array<{ name: string; url: string; routes: Route[]; plugins?: Plugin[] }>;
  plugins: Plugin[];
  consumers: Array<{ username: string; jwt_secrets: Array<{ key: string; algorithm: string; rsa_public_key: string }> }>;
};

export const configOf = (environment: string) => parse(readFileSync(generatedPath(environment, 'kong.yaml'), 'utf8')) as KongConfig;
export const valuesOf = (environment: string) => parse(readFileSync(generatedPath(environment, 'values.yaml'), 'utf8'));
export const routesOf = (kong: KongConfig) => kong.services.flatMap((service) => service.routes);
export const pluginOf = (route: Route, name: string) => (route.plugins ?? []).find((plugin) => plugin.name === name);
export const loadedPlugins = () => String(parse(readFileSync('kong/values.yaml', 'utf8')).env.plugins).split(',');
