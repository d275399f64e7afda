import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parse } from 'yaml';
import { KONG_MODEL_VERSION, kongModelProblems } from '../support/kong-model/index.js';
import { ACCEPTED } from '../support/kong-model-cases/accepted.js';
import { REFUSED } from '../support/kong-model-cases/refused.js';
import { base, limits } from '../support/kong-model-cases/staging.js';

/**
 * Holds the project's model of Kong 3.9.3's schemas to what Kong 3.9.3 itself does, read from its
 * schema files: each case changes the staging config, and the model must refuse what Kong refuses,
 * naming the field, and accept what Kong accepts. The cases are in tests/support/kong-model-cases.
 */

const loaded = String(parse(readFileSync('kong/values.yaml', 'utf8')).env.plugins).split(',');
const problemsOf = (config: unknown) => kongModelProblems(config, loaded);

const mutated = (mutate: (config: any) => void) => {
  const config = structuredClone(base);
  mutate(config);
  return config;
};

describe(`the project's model of Kong ${KONG_MODEL_VERSION}'s schemas (tests/support/kong-model)`, function () {
  it('models the Kong version kong/values.yaml deploys', function () {
    const image = parse(readFileSync('kong/values.yaml', 'utf8')).image;
    expect(`${image.repository}:${image.tag}`).to.equal(`kong:${KONG_MODEL_VERSION}`);
  });

  it('accepts both generated configs', function () {
    for (const environment of ['staging', 'production']) expect(problemsOf(parse(readFileSync(`kong/generated/${environment}/kong.yaml`, 'utf8'))), environment).to.deep.equal([]);
  });

  it('leaves the config it checks unchanged (defaults and shorthands are applied to a copy)', function () {
    const config = mutated((c) => { limits(c).redis_host = limits(c).redis.host; delete limits(c).redis.host; });
    const before = structuredClone(config);
    problemsOf(config);
    expect(config).to.deep.equal(before);
  });

  describe(`refuses what Kong ${KONG_MODEL_VERSION} refuses, naming the field (${REFUSED.length} cases)`, function () {
    for (const [what, mutate, field, message] of REFUSED) {
      it(what, function () {
        const problems = problemsOf(mutated(mutate));
        const named = problems.filter((problem) => problem.startsWith(`${field}: `));
        expect(named, `no problem names ${field}; found:\n${problems.join('\n')}`).to.not.deep.equal([]);
        expect(named.join('\n')).to.match(message);
      });
    }
  });

  describe(`accepts what Kong ${KONG_MODEL_VERSION} accepts (${ACCEPTED.length} cases)`, function () {
    for (const [what, mutate] of ACCEPTED) {
      it(what, function () {
        expect(problemsOf(mutated(mutate))).to.deep.equal([]);
      });
    }
  });
});
