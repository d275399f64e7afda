import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';

/**
 * The scripts a TERM passed down a tree stops at (scripts/lib.sh's SELF_STOPPING) clean up after
 * themselves: each sets its cleanup with end_on_signals, so that a signal repeated during that
 * cleanup cannot cut it short (tests/service/with-test-servers.test.ts runs one).
 */
describe("the self-stopping scripts (scripts/lib.sh's SELF_STOPPING)", function () {
  const listed = spawnSync('bash', ['-c', '. scripts/lib.sh && printf "%s\\n" "${SELF_STOPPING[@]}"'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);

  it('lists the wrappers and the tier', function () {
    expect(listed).to.include.members(['with-test-servers', 'with-cluster', 'cluster-inside', 'with-argocd', 'build-image', 'tier']);
  });

  // The tier holds a lock and cleans nothing up: it ends after its step, through run_child.
  for (const name of listed.filter((script) => script !== 'tier'))
    it(`${name} sets its cleanup with end_on_signals, and no EXIT, INT or TERM trap of its own`, function () {
      const script = readFileSync(`scripts/${name}`, 'utf8');
      expect(script).to.match(/^end_on_signals \S/m);
      expect(script).not.to.match(/^\s*trap .*\b(EXIT|INT|TERM)\s*$/m);
    });
});
