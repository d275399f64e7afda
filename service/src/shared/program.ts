/** A program of the `records` command: its commands and the usage lines it adds to `records help`. */
/** A command gets its arguments and the environment, which it reads only through its program's config. */
export type Command = (argv: string[], env: NodeJS.ProcessEnv) => Promise<number | void>;
export type Program = { usage: string; commands: Record<string, Command> };
