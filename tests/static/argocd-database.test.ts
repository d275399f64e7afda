import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parse } from 'yaml';
import { ENVIRONMENTS } from '../../tooling/environments.js';
import { chartPin } from '../../tooling/upstream-mirror.js';
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
});
