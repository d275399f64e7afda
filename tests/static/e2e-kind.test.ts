import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { expect } from 'chai';
import { parse } from 'yaml';

describe('scripts/e2e-kind (the cluster test for machines with Docker)', function () {
  it('passes shellcheck, as do the other shell scripts', function () {
    // Every shell script: those with a bash shebang, the sourced library, CI's entry point.
    const shebang = (path: string) => statSync(path).isFile() && readFileSync(path, 'utf8').startsWith('#!/usr/bin/env bash');
    const scripts = [...readdirSync('scripts').map((file) => `scripts/${file}`).filter(shebang), 'scripts/lib.sh', '.ci/run'];
    expect(scripts).to.include.members(['scripts/e2e-kind', 'scripts/argocd', 'scripts/with-argocd', 'scripts/cluster']);
    const result = spawnSync('shellcheck', ['-x', ...scripts], { encoding: 'utf8' });
    expect(result.status, result.stdout + result.stderr).to.equal(0);
  });

  it('gives Kong values the pinned chart renders on kind: no one-replica PDB, a NodePort the host reaches', function () {
    const merged = { ...parse(readFileSync('kong/values.yaml', 'utf8')), ...parse(readFileSync('k8s/kind/kong-values.yaml', 'utf8')) };
    const base = parse(readFileSync('kong/values.yaml', 'utf8'));
    const kind = parse(readFileSync('k8s/kind/kong-values.yaml', 'utf8'));
    const proxy = { ...base.proxy, ...kind.proxy };
    // Kong 2.48.0: "Enabling PodDisruptionBudget with replicaCount: 1 and no autoscaling prevents pod restarts".
    if (merged.replicaCount === 1 && merged.autoscaling?.enabled === false) expect(merged.podDisruptionBudget?.enabled).to.equal(false);
    // The host reaches the control-plane node's port, where no Kong pod runs.
    expect(proxy.type).to.equal('NodePort');
    expect(proxy.externalTrafficPolicy).to.equal('Cluster');
    const cluster = parse(readFileSync('k8s/kind/cluster.yaml', 'utf8'));
    expect(cluster.nodes[0].extraPortMappings[0].containerPort).to.equal(proxy.tls.nodePort);
    // kind's default listenAddress is 0.0.0.0: the API behind Kong reachable from the network.
    expect(cluster.nodes.flatMap((node: { extraPortMappings?: Array<{ listenAddress?: string }> }) => node.extraPortMappings ?? []).map((mapping: { listenAddress?: string }) => mapping.listenAddress)).to.deep.equal(['127.0.0.1']);
  });

  it('uses the chart versions argocd/ pins and the files it ships', function () {
    const script = readFileSync('scripts/e2e-kind', 'utf8');
    for (const file of ['k8s/kind/cluster.yaml', 'k8s/kind/kong-values.yaml', 'kong/values.yaml', 'argocd/apps/values.yaml']) {
      expect(existsSync(file), file).to.equal(true);
      expect(script).to.contain(file);
    }
  });
});
