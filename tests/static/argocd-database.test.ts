import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { ENVIRONMENTS } from '../../tooling/environments.js';
import { chartPin } from '../../tooling/upstream-mirror.js';
import { memoryBytes } from '../support/memory-quantity.js';
import { kustomize, upstreamDefaults } from '../support/tools.js';

describe('the databases of argocd/database', function () {
  /** The server settings of a MariaDB's myCnf, as name -> value. */
  const settingsOf = (environment: string) => {
    const mariadb = kustomize(`argocd/database/${environment}`).find((object) => object.kind === 'MariaDB')!;
    return { mariadb, settings: Object.fromEntries((mariadb.spec.myCnf as string).split('\n').map((line) => line.trim()).filter((line) => /^[a-z_-]+=/.test(line)).map((line) => line.split('=') as [string, string])) };
  };

  it('outlive their Application: never pruned or deleted by Argo CD (the operator\'s password Secrets go with the object, and new passwords would not open the kept volumes)', function () {
    for (const environment of ENVIRONMENTS) {
      expect(settingsOf(environment).mariadb.metadata.annotations?.['argocd.argoproj.io/sync-options'], environment).to.equal('Prune=false,Delete=false');
    }
  });

  it('run Galera\'s init container and agent from the operator\'s own image at its pinned version', function () {
    const { mariadb } = settingsOf('production');
    const operator = upstreamDefaults('mariadbOperator').find((object) => object.kind === 'Deployment' && object.metadata.name === 'mariadb-operator')!;
    const image = operator.spec.template.spec.containers[0].image as string;
    expect(image).to.match(new RegExp(`:${chartPin('mariadbOperator').version}$`));
    expect([mariadb.spec.galera.initContainer.image, mariadb.spec.galera.agent.image]).to.deep.equal([image, image]);
  });

  it('run the MariaDB the tests run: the chart\'s image, pinned (the operator\'s default moves with the operator, and may change the major version under Galera)', function () {
    const chart = parse(readFileSync('charts/records/values.yaml', 'utf8')) as { mariadb: { image: { repository: string; tag: string } } };
    for (const environment of ENVIRONMENTS) {
      expect(settingsOf(environment).mariadb.spec.image, environment).to.equal(`${chart.mariadb.image.repository}:${chart.mariadb.image.tag}`);
    }
  });

  it('give one multi-row INSERT consecutive ids: Galera steps none, and the service writes to the primary', function () {
    for (const environment of ENVIRONMENTS) {
      const { mariadb, settings } = settingsOf(environment);
      if (mariadb.spec.galera?.enabled) {
        expect(settings, `${environment}: Galera's auto-increment control off`).to.include({ wsrep_auto_increment_control: 'OFF', auto_increment_increment: '1' });
        const url = parse(readFileSync(`argocd/values/records/${environment}.yaml`, 'utf8')).database.url as string;
        expect(new URL(url).hostname, `${environment}: every write through the primary Service`).to.match(/^records-db-primary\./);
      }
      expect(settings.auto_increment_increment ?? '1', environment).to.equal('1');
    }
  });

  it('size InnoDB\'s buffer pool at half their memory limit, as MariaDB reads their myCnf (the operator sets none; MariaDB\'s default is 128 MiB whatever the limit), and give Galera\'s Jobs room for it', function () {
    const dir = mkdtempSync(join(tmpdir(), 'records-mycnf-'));
    try {
      for (const environment of ENVIRONMENTS) {
        const { mariadb } = settingsOf(environment);
        const file = join(dir, `${environment}.cnf`);
        writeFileSync(file, mariadb.spec.myCnf as string);
        // The server's own reading of the file (Debian's 10.11, the test servers' MariaDB): what it would run with.
        // Debian installs it in /usr/sbin, which a user's PATH may lack (scripts/mariadb adds it too).
        const variables = execFileSync('mariadbd', [`--defaults-file=${file}`, '--help', '--verbose'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin` } });
        const pool = Number(/^innodb-buffer-pool-size\s+(\d+)$/m.exec(variables)?.[1]);
        const limit = memoryBytes(mariadb.spec.resources.limits.memory as string);
        expect(pool / limit, `${environment}: ${pool} bytes of buffer pool in a ${mariadb.spec.resources.limits.memory} limit`).to.be.within(0.4, 0.6);
        // Galera's init and recovery Jobs start mariadbd with the same myCnf: a memory limit of their
        // own above the pool (they had none, so the namespace's 256Mi default, and an out-of-memory
        // kill in recovery would keep a crashed cluster down). Recovery stays on, as by default.
        const galera = mariadb.spec.galera as { enabled?: boolean; initJob?: { resources?: { limits?: { memory?: string } } }; recovery?: { enabled?: boolean; job?: { resources?: { limits?: { memory?: string } } } } } | undefined;
        if (!galera?.enabled) continue;
        expect(galera.recovery?.enabled, `${environment}: recovery`).to.equal(true);
        for (const [job, resources] of [['init', galera.initJob?.resources], ['recovery', galera.recovery?.job?.resources]] as const) {
          expect(memoryBytes(resources?.limits?.memory ?? '256Mi'), `${environment}: the ${job} Job's memory limit`).to.be.greaterThan(pool);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
