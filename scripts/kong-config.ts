/**
 * Writes kong/generated/<env>/ from kong/kong.yaml, kong/environments/ and kong/keys/
 * (tooling/kong-config.ts renders them); with --check, fails when a generated file is out of date.
 *
 * usage: tsx scripts/kong-config.ts [--check]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { ENVIRONMENTS } from '../tooling/environments.js';
import { generatedPath, readEnvironment, renderConfig, renderValues } from '../tooling/kong-config.js';

const check = process.argv.includes('--check');
for (const environment of ENVIRONMENTS) {
  const env = readEnvironment(environment);
  const config = renderConfig(env);
  const files = { [generatedPath(environment, 'kong.yaml')]: config, [generatedPath(environment, 'values.yaml')]: renderValues(env, config) };
  for (const [path, text] of Object.entries(files)) {
    if (!check) {
      mkdirSync(`kong/generated/${environment}`, { recursive: true });
      writeFileSync(path, text);
    } else if (readFileSync(path, 'utf8') !== text) {
      console.error(`${path} is out of date: run make kong-config`);
      process.exitCode = 1;
    }
  }
}
