import { spawnSync } from 'node:child_process';
import { expect } from 'chai';

/**
 * `records <command>` loads the program the command belongs to and no other: `records load` on a
 * laptop started the HTTP server's, the database drivers' and the cache's modules (0.7 s under tsx
 * where 0.4 s does), and every program loaded every other's.
 */
describe('records <command> loads only its own program', function () {
  this.timeout(60_000);

  /** The specifiers a run of `records ...args` resolved, and its exit code. */
  function resolvedBy(args: string[]): { specifiers: string[]; status: number | null } {
    // A resolve hook records every specifier and writes them out as the process exits.
    const recorder = `import { registerHooks } from 'node:module'; import { writeSync } from 'node:fs'; const resolved = []; registerHooks({ resolve(specifier, context, next) { resolved.push(specifier); return next(specifier, context); } }); process.on('exit', () => writeSync(2, '\\nRESOLVED ' + JSON.stringify(resolved) + '\\n'));`;
    const run = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(recorder)}`, '--import', 'tsx', 'service/src/main.ts', ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    const line = run.stderr.split('\n').find((candidate) => candidate.startsWith('RESOLVED '));
    expect(line, run.stderr).not.to.equal(undefined);
    return { specifiers: JSON.parse(line!.slice('RESOLVED '.length)) as string[], status: run.status };
  }

  // tsx, hooked after the recorder, hands it relative specifiers as .ts files.
  const apiModules = (specifiers: string[]) => specifiers.filter((specifier) => /^(koa|@koa\/router|knex|mysql2|better-sqlite3|ioredis|prom-client|\.\/commands\.ts)$/.test(specifier));

  it('records load (a usage error here) resolves no module of the API, its drivers or the other programs', function () {
    const { specifiers, status } = resolvedBy(['load']);
    expect(status, 'a usage error').to.equal(78);
    expect(specifiers, 'the loader itself').to.include('./command.ts');
    expect(apiModules(specifiers)).to.deep.equal([]);
    // The other programs' code: only their descriptions (program.ts) are read.
    expect(specifiers.filter((specifier) => /^\.\/(kong-sync|generated-secret)\.ts$|clients\/(kubernetes|kong-admin)\.ts$/.test(specifier))).to.deep.equal([]);
  });

  it('answers a command no program has with the usage, also one named like an object\'s own members (records constructor crashed)', function () {
    for (const name of ['constructor', 'toString', 'no-such-command']) {
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'service/src/main.ts', name], { encoding: 'utf8' });
      expect(run.status, `${name}: ${run.stderr}`).to.equal(2);
      expect(run.stderr, name).to.match(/^usage: records <command>/);
    }
  });

  it('answers an option a command does not know with its usage and exit 78 (parseArgs\' TypeError ended it with exit 1 and a stack)', function () {
    for (const args of [['init-secret', '--nmae', 'x'], ['migrate', '--wiat', '5'], ['token', '--aud', 'records', '--scope', '', '--tll', '60'], ['migrate', '--wait', '1e3']]) {
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'service/src/main.ts', ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
      expect(run.status, `${args.join(' ')}: ${run.stderr}`).to.equal(78);
      expect(run.stderr, args.join(' ')).to.match(new RegExp(`^records: .*\\nusage: records ${args[0]}|^records: usage: records ${args[0]}`)).and.not.to.match(/\n\s+at /);
    }
  });

  it('records init-secret outside a pod says what it needs: the API server\'s address the kubelet sets, and a service account token', function () {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'service/src/main.ts', 'init-secret', '--name', 'x', '--keys', 'signing-key.pem'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    expect(run.status, run.stderr).to.equal(78);
    expect(run.stderr).to.contain('KUBERNETES_SERVICE_HOST').and.to.contain('KUBERNETES_SERVICE_PORT').and.to.contain('/var/run/secrets/kubernetes.io/serviceaccount');
  });

  it('records token (a usage error here) loads the API program, which the check above would see', function () {
    const { specifiers, status } = resolvedBy(['token']);
    expect(status, 'a usage error').to.equal(78);
    expect(apiModules(specifiers)).to.include.members(['./commands.ts', 'koa', 'knex']);
  });
});
