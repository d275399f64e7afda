import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from './environment.js';

/**
 * A command's arguments: parseArgs, with what it refuses (an unknown option, a stray argument) a
 * usage error naming it, exit 78. Its own TypeError ended the command with exit 1 and a stack.
 */
export function commandLine<T extends ParseArgsConfig>(config: T, usage: string): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    throw new ConfigError(`${(error as Error).message.split('. ')[0]}\n${usage}`);
  }
}

/**
 * A whole number as a person writes one (digits only: not 1e3, 0x10 or " 6 "), or NaN, for which
 * no bound holds: checks are written as the bound holding, `!(n >= 1 && n <= 100)`.
 */
export const wholeNumber = (text: string | undefined): number => (text !== undefined && /^[0-9]{1,15}$/.test(text) ? Number(text) : Number.NaN);
