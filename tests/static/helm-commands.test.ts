import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parse } from 'yaml';

/**
 * Helm waits for each hook Job, and with `--wait` for the release, at most `--timeout` (5 minutes
 * by default), while the migrations Job may run up to `migrations.activeDeadlineSeconds`: an upgrade
 * whose Job outlived Helm's default was marked failed with the Job still running, its Deployment
 * never updated. Every install or upgrade of the chart the documentation gives (fenced `sh` blocks,
 * and inline commands naming a namespace) waits longer than the Job may run.
 */

const DOCUMENTS = ['README.md', 'charts/records/README.md', ...readdirSync('docs').filter((file) => file.endsWith('.md')).map((file) => `docs/${file}`)];
const UNITS: Record<string, number> = { h: 3600, m: 60, s: 1 };

/** Seconds of a Go duration as Helm reads `--timeout` (`15m`, `900s`, `1h30m`); NaN for anything else. */
function seconds(duration: string): number {
  const parts = [...duration.matchAll(/(\d+)([hms])/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== duration) return Number.NaN;
  return parts.reduce((sum, [, amount, unit]) => sum + Number(amount) * (UNITS[unit as string] as number), 0);
}

/** The chart's install and upgrade commands in a document: continued lines joined. */
function helmCommands(text: string): string[] {
  const fenced = [...text.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((block) => (block[1] as string).replace(/\\\n\s*/g, ' ').split('\n'));
  const inline = [...text.matchAll(/`(helm (?:install|upgrade) [^`]*)`/g)].map((span) => span[1] as string).filter((command) => / -n \S/.test(command));
  return [...fenced, ...inline].map((line) => line.trim()).filter((line) => /^helm (install|upgrade) /.test(line) && /charts\/records/.test(line));
}

describe('documented helm install and upgrade commands', function () {
  const deadline = (parse(readFileSync('charts/records/values.yaml', 'utf8')) as { migrations: { activeDeadlineSeconds: number } }).migrations.activeDeadlineSeconds;

  it('reads Go durations as Helm does', function () {
    expect([seconds('15m'), seconds('900s'), seconds('1h30m'), seconds('5'), seconds('10x')]).to.deep.equal([900, 900, 5400, Number.NaN, Number.NaN]);
  });

  it(`wait longer than the migrations Job may run (--timeout over ${deadline} s), in every document that gives one`, function () {
    // One test over every document: one per document asserted nothing where a document gives none.
    const commands = DOCUMENTS.flatMap((document) => helmCommands(readFileSync(document, 'utf8')).map((command) => ({ document, command })));
    expect(new Set(commands.map(({ document }) => document))).to.include.all.keys('README.md', 'charts/records/README.md', 'docs/operations.md');
    for (const { document, command } of commands) {
      const timeout = /--timeout[ =](\S+)/.exec(command)?.[1];
      expect(timeout, `${document}: ${command}`).to.be.a('string');
      expect(seconds(timeout as string), `${document}: ${command}`).to.be.greaterThan(deadline);
    }
  });
});
