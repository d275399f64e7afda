import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parse } from 'yaml';
import { ENVIRONMENTS } from '../../tooling/environments.js';
import { readEnvironment } from '../../tooling/kong-config.js';
import { configOf } from '../support/kong-generated.js';
import { helmTemplate } from '../support/tools.js';

describe('Kong and the records chart', function () {
  it('points the Kong service at the chart\'s Service for the default release', function () {
    const service = helmTemplate([], [], 'records', 'records').find((object) => object.kind === 'Service' && object.metadata.name === 'records');
    for (const environment of ENVIRONMENTS) {
      expect(configOf(environment).services[0]?.url).to.equal(`http://${service?.metadata.name}.records.svc.cluster.local:${service?.spec.ports[0].port}`);
    }
  });

  it('admits the tokens of exactly the issuers the service trusts, in every environment', function () {
    for (const environment of ENVIRONMENTS) {
      const kong = readEnvironment(environment).issuers.map((issuer) => issuer.jwksUri).sort();
      const values = parse(readFileSync(`argocd/values/records/${environment}.yaml`, 'utf8'));
      const service = (values.config.auth.issuers as Array<{ jwksUri: string }>).map((issuer) => issuer.jwksUri).sort();
      expect(kong, `${environment}: Kong's consumers (kong/environments) vs the service's issuers (argocd/values/records)`).to.deep.equal(service);
    }
  });

  it('admits Kong\'s namespace in the chart\'s NetworkPolicy', function () {
    const policy = helmTemplate().find((object) => object.kind === 'NetworkPolicy' && object.metadata.name === 'records');
    const namespaces = policy?.spec.ingress.flatMap((rule: any) => (rule.from ?? []).map((from: any) => from.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name']));
    expect(namespaces).to.include(parse(readFileSync('charts/records/values.yaml', 'utf8')).networkPolicy.kongNamespace);
  });
});
