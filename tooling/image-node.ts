/** How the image starts node (Dockerfile): its NODE_OPTIONS, and the ENTRYPOINT's arguments after `node`. */
export function imageNode(dockerfile: string): { nodeOptions: string; nodeArgs: string[] } {
  const nodeOptions = /NODE_OPTIONS="([^"]+)"/.exec(dockerfile)?.[1];
  const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
  const [node, ...nodeArgs] = entrypoint ? (JSON.parse(entrypoint) as string[]) : [];
  if (nodeOptions === undefined || node !== 'node' || nodeArgs.at(-1) !== 'service/dist/main.js') throw new Error('the Dockerfile no longer reads as NODE_OPTIONS and ENTRYPOINT ["node", ..., "service/dist/main.js"]');
  return { nodeOptions, nodeArgs };
}

