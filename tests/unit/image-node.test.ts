import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { imageNode } from '../../tooling/image-node.js';

describe('the bench starts node as the image does', () => {
  const dockerfile = readFileSync('Dockerfile', 'utf8');

  it("reads the Dockerfile's NODE_OPTIONS and its ENTRYPOINT: node's flags (pretenuring off), the tracing preload, the program", () => {
    const { nodeOptions, nodeFlags, preloads, main } = imageNode(dockerfile);
    expect(nodeOptions).to.contain('--max-old-space-size=');
    expect(nodeFlags).to.deep.equal(['--no-allocation-site-pretenuring']);
    expect(preloads).to.deep.equal(['./service/dist/api/tracing.js']);
    expect(main).to.equal('service/dist/main.js');
  });

  it('takes the last ENTRYPOINT and NODE_OPTIONS outside comments, and either spelling of --import', () => {
    const later = `# NODE_OPTIONS="--in-a-comment"\n${dockerfile}\nENV NODE_OPTIONS="--max-old-space-size=64"\nENTRYPOINT ["node", "--jitless", "--import=./a.js", "--import", "./b.js", "service/dist/main.js"]\n`;
    expect(imageNode(later)).to.deep.equal({ nodeOptions: '--max-old-space-size=64', nodeFlags: ['--jitless'], preloads: ['./a.js', './b.js'], main: 'service/dist/main.js' });
  });

  it('refuses a Dockerfile it cannot read that way, rather than benching another start', () => {
    expect(() => imageNode(dockerfile.replace(/^ENTRYPOINT .*$/m, 'ENTRYPOINT ["npm", "start"]'))).to.throw(/ENTRYPOINT is not/);
    expect(() => imageNode(dockerfile.replace(/^ENTRYPOINT .*$/m, 'ENTRYPOINT ["node", "--import", "./t.js", "--jitless", "service/dist/main.js"]'))).to.throw(/--jitless where/);
    expect(() => imageNode(dockerfile.replace(/NODE_OPTIONS="[^"]+"/, ''))).to.throw(/no NODE_OPTIONS/);
  });

  it("starts with the image's flags and NODE_OPTIONS on this Node (a flag it rejects stops the pod)", () => {
    const { nodeOptions, nodeFlags } = imageNode(dockerfile);
    const run = spawnSync(process.execPath, [...nodeFlags, '-e', 'process.stdout.write("started")'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', NODE_OPTIONS: nodeOptions } });
    expect(run.stderr).to.equal('');
    expect(run.stdout).to.equal('started');
  });
});
