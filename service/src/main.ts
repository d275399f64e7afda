#!/usr/bin/env node
import { api } from './api/program.js';
import { cluster } from './cluster/program.js';
import { kongSync } from './kong-sync/program.js';
import { loader } from './loader/program.js';
import { ConfigError } from './shared/environment.js';
import { failureMessage } from './shared/failure-message.js';

/**
 * `records <command>`: finds the program a command belongs to and runs it. Only the programs'
 * descriptions are imported here: a command loads its own program's code, not the others'.
 */

const programs = [api, kongSync, loader, cluster];
const commands = Object.assign({}, ...programs.map((program) => program.commands)) as (typeof api)['commands'];

const USAGE = `usage: records <command>

commands:
${programs.map((program) => program.usage).join('\n')}

configuration comes from the environment: PORT, HOST, DATABASE_URL, BODY_LIMIT,
INSERT_BATCH_SIZE, BULK_CONCURRENCY, LOG_LEVEL (see README.md)`;

async function main(argv: string[]): Promise<number> {
  // Own names only: `records constructor` found Object.prototype's.
  const command = Object.hasOwn(commands, argv[0] ?? '') ? commands[argv[0] as string] : undefined;
  if (!command) {
    console.error(USAGE);
    return argv[0] === undefined || argv[0] === 'help' || argv[0] === '--help' ? 0 : 2;
  }
  try {
    return (await command(argv.slice(1), process.env)) ?? 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`records: ${error.message}`);
      return 78; // EX_CONFIG
    }
    console.error(`records: failed: ${failureMessage(error)}`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  if (code !== 0) process.exit(code);
}, (error: unknown) => {
  console.error(error);
  process.exit(1);
});
