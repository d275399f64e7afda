import { readFileSync } from 'node:fs';

/** How the image starts node (Dockerfile), read by the bench and the NDJSON memory test to start it alike. */
export type ImageNode = {
  /** The ENV's NODE_OPTIONS. */
  nodeOptions: string;
  /** node's own flags in the ENTRYPOINT, before its preloads. */
  nodeFlags: string[];
  /** The modules the ENTRYPOINT preloads (`--import`), tracing's among them. */
  preloads: string[];
  /** The program the ENTRYPOINT runs. */
  main: string;
};

/**
 * Reads the Dockerfile's (the repository's by default) last NODE_OPTIONS and last ENTRYPOINT (the final stage's), outside
 * comments, and refuses any shape it does not know rather than start node otherwise.
 */
export function imageNode(dockerfile = readFileSync('Dockerfile', 'utf8')): ImageNode {
  const lines = dockerfile.split('\n').filter((line) => !line.trimStart().startsWith('#'));
  const nodeOptions = lines.flatMap((line) => [.../NODE_OPTIONS="([^"]+)"/.exec(line)?.slice(1) ?? []]).at(-1);
  if (nodeOptions === undefined) throw new Error('the Dockerfile sets no NODE_OPTIONS="..."');
  const entrypoint = lines.flatMap((line) => [.../^ENTRYPOINT (\[.*\])\s*$/.exec(line)?.slice(1) ?? []]).at(-1);
  const [node, ...args] = entrypoint ? (JSON.parse(entrypoint) as string[]) : [];
  const main = args.pop();
  if (node !== 'node' || main !== 'service/dist/main.js') throw new Error('the Dockerfile\'s ENTRYPOINT is not ["node", ..., "service/dist/main.js"]');
  const nodeFlags: string[] = [];
  const preloads: string[] = [];
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index] as string;
    if (arg === '--import' && args[index + 1] !== undefined) preloads.push(args[(index += 1)] as string);
    else if (arg.startsWith('--import=')) preloads.push(arg.slice('--import='.length));
    else if (arg.startsWith('-') && preloads.length === 0) nodeFlags.push(arg);
    else throw new Error(`the Dockerfile's ENTRYPOINT has ${arg} where node's flags or preloads were expected`);
  }
  return { nodeOptions, nodeFlags, preloads, main };
}
