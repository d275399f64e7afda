import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { imageNode } from '../../tooling/image-node.js';

describe('the bench starts node as the image does', () => {
  const dockerfile = readFileSync('Dockerfile', 'utf8');

  it("reads the Dockerfile's NODE_OPTIONS and its ENTRYPOINT's node flags, pretenuring off among them", () => {
    const { nodeOptions, nodeArgs } = imageNode(dockerfile);
    expect(nodeOptions).to.contain('--max-old-space-size=');
    expect(nodeArgs).to.include('--no-allocation-site-pretenuring');
    expect(nodeArgs.slice(-3)).to.deep.equal(['--import', './service/dist/api/tracing.js', 'service/dist/main.js']);
  });

  it('refuses a Dockerfile it cannot read that way, rather than benching another start', () => {
    expect(() => imageNode(dockerfile.replace(/^ENTRYPOINT .*$/m, 'ENTRYPOINT ["npm", "start"]'))).to.throw(/ENTRYPOINT/);
    expect(() => imageNode(dockerfile.replace(/NODE_OPTIONS="[^"]+"/, ''))).to.throw(/NODE_OPTIONS/);
  });

  it("starts with the image's flags and NODE_OPTIONS on this Node (a flag it rejects stops the pod)", () => {
    const { nodeOptions, nodeArgs } = imageNode(dockerfile);
    const flags = nodeArgs.slice(0, -3);
    const run = spawnSync(process.execPath, [...flags, '-e', 'process.stdout.write("started")'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', NODE_OPTIONS: nodeOptions } });
    expect(run.stderr).to.equal('');
    expect(run.stdout).to.equal('started');
  });
});
