/**
 * The upstream inputs of the tests (tools/upstream.yaml), from the command line.
 *
 * usage: tsx tooling/upstream.ts dir          print the mirror directory (RECORDS_UPSTREAM_MIRROR),
 *                                             or fail with one line saying how to get one
 *        tsx tooling/upstream.ts crds         print the CRD files a test cluster installs, one a line
 *        tsx tooling/upstream.ts mirror OUT   write a mirror into OUT from the real charts (helm pull
 *                                             at the pinned versions; needs the chart repositories)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { chartFolder, chartPins, crdFiles, MirrorMissing, mirrorDir, renderName, valuesDigest, type ChartPin } from './upstream-mirror.js';

const helmBin = () => `${execFileSync('scripts/install-k8s-tools', { encoding: 'utf8' }).trim()}/helm`;

/** helm template, split into CRDs and the rest; throws with helm's message when it fails. */
function template(helm: string, pin: ChartPin, chartDir: string, valuesFiles: string[] = []): { crds: unknown[]; objects: unknown[] } {
  const args = ['template', pin.release, chartDir, '--namespace', pin.namespace, '--include-crds', ...valuesFiles.flatMap((file) => ['-f', file])];
  const result = spawnSync(helm, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(result.stderr.trim());
  const all = parseAllDocuments(result.stdout).map((document) => document.toJS() as { kind?: string } | null).filter((object) => object !== null);
  return { crds: all.filter((object) => object.kind === 'CustomResourceDefinition'), objects: all.filter((object) => object.kind !== 'CustomResourceDefinition') };
}

const asYaml = (objects: unknown[]) => objects.map((object) => `---\n${stringify(object)}`).join('');

function mirror(out: string): number {
  const helm = helmBin();
  const failures: string[] = [];
  for (const pin of chartPins()) {
    const work = mkdtempSync(join(tmpdir(), 'records-upstream-'));
    try {
      execFileSync(helm, ['pull', pin.chart, '--repo', pin.repoURL, '--version', pin.version, '--untar', '--untardir', work], { stdio: 'inherit' });
      const chartDir = join(work, pin.chart);
      const target = join(out, chartFolder(pin));
      mkdirSync(target, { recursive: true });
      for (const file of ['Chart.yaml', 'values.yaml', 'values.schema.json']) {
        if (existsSync(join(chartDir, file))) cpSync(join(chartDir, file), join(target, file));
      }
      const defaults = template(helm, pin, chartDir);
      writeFileSync(join(target, 'crds.yaml'), asYaml(defaults.crds));
      writeFileSync(join(target, 'rendered-defaults.yaml'), asYaml(defaults.objects));
      for (const [environment, files] of Object.entries(pin.renders)) {
        const name = renderName(environment, valuesDigest(files));
        try {
          writeFileSync(join(target, name), asYaml(template(helm, pin, chartDir, files).objects));
          console.log(`${chartFolder(pin)}/${name}: ${files.join(' + ')}`);
        } catch (error) {
          failures.push(`${chartFolder(pin)} with ${files.join(' + ')} (${environment}) does not render: ${(error as Error).message}`);
        }
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  for (const failure of failures) console.error(failure);
  return failures.length === 0 ? 0 : 1;
}

function main(): number {
  const [command, out] = process.argv.slice(2);
  try {
    if (command === 'dir') console.log(mirrorDir());
    else if (command === 'crds') console.log(crdFiles().join('\n'));
    else if (command === 'mirror' && out) return mirror(out);
    else {
      console.error('usage: tsx tooling/upstream.ts dir | crds | mirror OUT');
      return 2;
    }
    return 0;
  } catch (error) {
    if (!(error instanceof MirrorMissing)) throw error;
    console.error(error.message);
    return 2;
  }
}

process.exitCode = main();
