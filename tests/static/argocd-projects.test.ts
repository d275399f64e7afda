import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parse } from 'yaml';
import { ENVIRONMENTS } from '../../tooling/environments.js';
import { validateAll } from '../support/k8s-schema.js';
import { projectViolations, unusedRules } from '../support/argocd-projects.js';
import { argocdManifests, deployedBy } from '../support/argocd-apps.js';
import { helmTemplate, renderApps, upstreamObjects as upstream, type K8sObject } from '../support/tools.js';

describe('GitOps: argocd/', function () {
  this.timeout(60_000);
  const projects = argocdManifests().filter((object) => object.kind === 'AppProject');
  const project = (name: string) => projects.find((candidate) => candidate.metadata.name === name) as K8sObject;

  it('has manifests that validate against the Argo CD schemas', async function () {
    const manifests = argocdManifests();
    expect(manifests.map((object) => object.kind).sort()).to.deep.equal(['AppProject', 'AppProject', 'AppProject', 'AppProject', 'Application', 'Application']);
    expect(await validateAll(manifests)).to.deep.equal([]);
  });

  it('splits projects: roots create only Applications; platform and app projects never deploy into argocd', function () {
    expect(projects.map((candidate) => candidate.metadata.name).sort()).to.deep.equal(['default', 'records-apps', 'records-bootstrap', 'records-platform']);
    // Argo CD's stock default project permits everything: shipped locked.
    expect(project('default').spec).to.deep.include({ sourceRepos: [], destinations: [], clusterResourceWhitelist: [] });
    expect(project('default').spec.namespaceResourceBlacklist).to.deep.equal([{ group: '*', kind: '*' }]);
    const servers = ENVIRONMENTS.map((environment) => parse(readFileSync(`argocd/apps/values-${environment}.yaml`, 'utf8')).destinationServer);
    expect(project('records-bootstrap').spec.destinations).to.deep.equal([{ server: 'https://kubernetes.default.svc', namespace: 'argocd' }]);
    expect(project('records-bootstrap').spec.namespaceResourceWhitelist).to.deep.equal([{ group: 'argoproj.io', kind: 'Application' }]);
    expect(project('records-bootstrap').spec.clusterResourceWhitelist).to.deep.equal([]);
    for (const name of ['records-platform', 'records-apps']) {
      const namespaces = project(name).spec.destinations.map((destination: { namespace: string }) => destination.namespace);
      expect(namespaces, name).not.to.include('argocd');
      expect(namespaces, name).not.to.include('*');
      expect(project(name).spec.sourceRepos, name).not.to.include('*');
      const destinationServers = [...new Set(project(name).spec.destinations.map((destination: { server: string }) => destination.server))].sort();
      expect(destinationServers, `${name}: each environment's cluster, never "*"`).to.deep.equal([...servers].sort());
    }
    for (const environment of ENVIRONMENTS) {
      for (const app of renderApps(environment)) expect(['records-platform', 'records-apps'], `${app.metadata.name}'s project`).to.include(app.spec.project);
    }
    // ClusterRoles and ClusterRoleBindings only by the names the upstream charts use.
    const rbac = project('records-platform').spec.clusterResourceWhitelist.filter((entry: { group: string }) => entry.group === 'rbac.authorization.k8s.io');
    expect(rbac.every((entry: { name?: string }) => entry.name && entry.name !== '*'), 'every cluster-wide RBAC entry names its objects').to.equal(true);
    expect([...new Set(project('records-apps').spec.destinations.map((destination: { namespace: string }) => destination.namespace))]).to.deep.equal(['records']);
    expect(project('records-apps').spec.clusterResourceWhitelist, 'namespaced objects only').to.deep.equal([]);
    for (const environment of ENVIRONMENTS) {
      const root = argocdManifests().find((object) => object.kind === 'Application' && object.metadata.name === `root-${environment}`) as K8sObject;
      expect(root.spec.project).to.equal('records-bootstrap');
      expect(projectViolations(project('records-bootstrap'), root, renderApps(environment))).to.deep.equal([]);
    }
  });

  it('keeps the generated Secret out of the app project\'s orphaned resources (it was listed for deletion)', function () {
    for (const environment of ENVIRONMENTS) {
      const hook = helmTemplate([`argocd/values/records/${environment}.yaml`]).find((object) => object.kind === 'Job' && object.metadata.name.endsWith('-init-secret'));
      const args: string[] = hook?.spec.template.spec.containers[0].args ?? [];
      expect(args[args.indexOf('--name') + 1], environment).to.equal('records-generated');
    }
    expect(project('records-apps').spec.orphanedResources).to.deep.equal({ warn: true, ignore: [{ group: '', kind: 'Secret', name: 'records-generated' }] });
  });

  it('permits every object each Application deploys, as the project\'s model of Argo CD\'s project checks sees it, and nothing more (tests/argocd: Argo CD itself)', function () {
    const deployed = new Map<string, Array<{ app: K8sObject; objects: K8sObject[] }>>();
    const problems: string[] = [];
    for (const environment of ENVIRONMENTS) {
      for (const app of renderApps(environment)) {
        const objects = deployedBy(app, environment);
        expect(objects.length, app.metadata.name).to.be.greaterThan(0);
        problems.push(...projectViolations(project(app.spec.project), app, objects));
        deployed.set(app.spec.project, [...(deployed.get(app.spec.project) ?? []), { app, objects }]);
      }
    }
    expect(problems).to.deep.equal([]);
    for (const name of ['records-platform', 'records-apps']) expect(unusedRules(project(name), deployed.get(name) ?? []), name).to.deep.equal([]);
  });

  it('has a model of Argo CD\'s project checks that refuses what its cases say Argo CD refuses (tests/argocd/refusals.ts: Argo CD itself)', function () {
    const app = renderApps('staging').find((candidate) => candidate.metadata.name === 'keda-staging') as K8sObject;
    const found = projectViolations(project('records-apps'), { ...app, spec: { ...app.spec, destination: { server: 'https://x', namespace: '' } } }, upstream('keda-2.20.2/rendered-defaults.yaml')).join('\n');
    expect(found).to.contain('keda-staging: destination has no namespace');
    expect(found).to.contain('source https://kedacore.github.io/charts is not permitted in project records-apps');
    expect(found).to.contain('RoleBinding/keda-operator-auth-reader: namespace kube-system is not a destination of project records-apps');
    expect(found).to.contain('cluster-scoped rbac.authorization.k8s.io/ClusterRole is not in the clusterResourceWhitelist');
  });
});
