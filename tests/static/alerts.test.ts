import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { stringify } from 'yaml';
import { validateAll } from '../support/k8s-schema.js';
import { helmTemplate, type K8sObject } from '../support/tools.js';

/**
 * The chart's PrometheusRule (files/alerts.yaml): rendered as a user enables it, checked by
 * Prometheus's own promtool, and unit-tested on synthetic series (tests/alerts/records.test.yaml):
 * each alert fires when it must and stays silent when it must not.
 */
const rendered = (sets: string[] = [], files: string[] = []) =>
  helmTemplate(files, ['prometheusRule.enabled=true', ...sets], 'records', 'records').filter((object) => object.kind === 'PrometheusRule');

function promtoolTest(rule: K8sObject, edit: (rules: string) => string = (rules) => rules) {
  const dir = mkdtempSync(join(tmpdir(), 'records-alerts-'));
  try {
    writeFileSync(join(dir, 'rules.yaml'), edit(stringify(rule.spec, { lineWidth: 0 })));
    copyFileSync('tests/alerts/records.test.yaml', join(dir, 'records.test.yaml'));
    const check = spawnSync('promtool', ['check', 'rules', join(dir, 'rules.yaml')], { encoding: 'utf8' });
    const test = spawnSync('promtool', ['test', 'rules', join(dir, 'records.test.yaml')], { encoding: 'utf8' });
    return { check, test };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the chart\'s alerts (PrometheusRule)', function () {
  this.timeout(60_000);

  it('are off by default, and render one PrometheusRule that passes the Prometheus Operator schema', async function () {
    expect(helmTemplate().filter((object) => object.kind === 'PrometheusRule')).to.deep.equal([]);
    const rules = rendered(['prometheusRule.labels.release=kube-prometheus-stack']);
    expect(rules).to.have.length(1);
    expect(rules[0]?.metadata.labels?.release).to.equal('kube-prometheus-stack');
    expect(await validateAll(rules)).to.deep.equal([]);
  });

  it('pass promtool check rules, and fire when they must and stay silent when they must not (promtool test rules)', function () {
    const { check, test } = promtoolTest(rendered()[0] as K8sObject);
    expect(check.status, check.stdout + check.stderr).to.equal(0);
    expect(test.status, test.stdout + test.stderr).to.equal(0);
    const alerts = (rendered()[0]?.spec.groups as Array<{ rules: Array<{ alert?: string }> }>).flatMap((group) => group.rules.map((rule) => rule.alert)).filter(Boolean);
    expect(alerts).to.deep.equal([
      'RecordsErrorBudgetBurnFast',
      'RecordsErrorBudgetBurnSlow',
      'RecordsLatencyBudgetBurnFast',
      'RecordsLatencyBudgetBurnSlow',
      'RecordsNotReady',
      'RecordsDatabaseUnavailable',
      'RecordsCacheUnavailable',
      'RecordsAutoscalingNoData',
    ]);
  });

  it('has unit tests that catch a wrong threshold or a missing short window', function () {
    const rule = rendered()[0] as K8sObject;
    const weakerPage = promtoolTest(rule, (rules) => rules.replaceAll('14.4 * (1 - 0.999)', '30 * (1 - 0.999)').replaceAll('6 * (1 - 0.999)', '30 * (1 - 0.999)'));
    expect(weakerPage.test.status, 'a page threshold of 30x goes unnoticed').to.not.equal(0);
    const noShortWindow = promtoolTest(rule, (rules) => rules.replaceAll(' and records:request_errors:ratio_rate5m > 14.4 * (1 - 0.999)', '').replaceAll(' and records:request_errors:ratio_rate30m > 6 * (1 - 0.999)', ''));
    expect(noShortWindow.test.status, 'an alert without its short window keeps firing after the burn').to.not.equal(0);
  });

  it('follow the objectives given in values', function () {
    const dir = mkdtempSync(join(tmpdir(), 'records-alert-values-'));
    try {
      const values = join(dir, 'values.yaml');
      writeFileSync(values, stringify({ prometheusRule: { availabilityObjective: 0.995, latencyThreshold: '0.5' } }));
      const spec = JSON.stringify(rendered([], [values])[0]?.spec);
      expect(spec).to.contain('14.4 * (1 - 0.995)');
      expect(spec).to.contain('le=\\"0.5\\"');
      writeFileSync(values, stringify({ prometheusRule: { latencyThreshold: '0.3' } }));
      expect(() => rendered([], [values]), 'not a bucket of the histogram').to.throw(/latencyThreshold/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
