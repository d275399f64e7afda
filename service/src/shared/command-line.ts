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

/** A whole number from `min` to `max`, written as a person writes one (digits only: not 1e3, 0x10 or " 6 "), or null. */
export function wholeNumberIn(text: string | undefined, min: number, max: number): number | null {
  if (text === undefined || !/^[0-9]{1,15}$/.test(text)) return null;
  const value = Number(text);
  return value >= min && value <= max ? value : null;
}
