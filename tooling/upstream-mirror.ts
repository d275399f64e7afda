import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

/**
 * The upstream charts the project pins (tools/upstream.yaml) and the mirror directory that holds
 * what they contain and render (RECORDS_UPSTREAM_MIRROR). The one place that knows where upstream
 * data lives: tests and scripts ask here, and nothing else names the mirror's default location.
 */

export const MIRROR_VARIABLE = 'RECORDS_UPSTREAM_MIRROR';
const PINS_FILE = 'tools/upstream.yaml';
/** The workspace's copy of the mirror, used when the variable is unset and it exists. */
const WORKSPACE_MIRROR = '../shared/upstream';

export type ChartPin = { key: string; repoURL: string; chart: string; version: string; release: string; namespace: string; renders: Record<string, string[]> };
export type CrdModule = { module: string; version: string; files: string[] };
type PinsFile = { charts: Record<string, Omit<ChartPin, 'key'>>; crdCharts: string[]; crdModules: CrdModule[] };

const readPins = (): PinsFile => parse(readFileSync(PINS_FILE, 'utf8')) as PinsFile;

export function chartPins(): ChartPin[] {
  return Object.entries(readPins().charts).map(([key, pin]) => ({ key, ...pin, renders: pin.renders ?? {} }));
}

export function chartPin(key: string): ChartPin {
  const pin = chartPins().find((candidate) => candidate.key === key);
  if (!pin) throw new Error(`${PINS_FILE} pins no chart "${key}"`);
  return pin;
}


/** A chart's folder in the mirror: <chart>-<version>. */
export const chartFolder = (pin: ChartPin) => `${pin.chart}-${pin.version}`;

export class MirrorMissing extends Error {}

const checkedMirrors = new Map<string | undefined, string>();

/**
 * The mirror directory, absolute. Fails with one line naming RECORDS_UPSTREAM_MIRROR when there is
 * none, or when it lacks a pinned chart's folder (a mirror of other versions).
 */
export function mirrorDir(environment: NodeJS.ProcessEnv = process.env): string {
  const named = environment[MIRROR_VARIABLE];
  // Checked once per process and variable: every upstream file read asks for the directory.
  const checked = checkedMirrors.get(named);
  if (checked) return checked;
  const dir = resolve(named || WORKSPACE_MIRROR);
  if (!named && !existsSync(dir)) {
    throw new MirrorMissing(`no upstream mirror: set ${MIRROR_VARIABLE} to a directory written by "make upstream-mirror OUT=dir" (see tools/upstream.yaml)`);
  }
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new MirrorMissing(`${MIRROR_VARIABLE}=${named}: not a directory`);
  const absent = chartPins().map(chartFolder).filter((folder) => !existsSync(join(dir, folder, 'Chart.yaml')));
  if (absent.length > 0) throw new MirrorMissing(`the upstream mirror ${dir} (${MIRROR_VARIABLE}) lacks ${absent.join(', ')} (pinned in ${PINS_FILE}): refresh it with "make upstream-mirror OUT=dir"`);
  checkedMirrors.set(named, dir);
  return dir;
}

/** A file of a chart's folder in the mirror. */
export const mirrorFile = (pin: ChartPin, file: string) => join(mirrorDir(), chartFolder(pin), file);

/**
 * Names the values a render used: the sha256 of each values file's path and bytes, in order,
 * first 16 hex digits. `make upstream-mirror` names renders by it; tests find them by it.
 */
export function valuesDigest(files: string[], read: (file: string) => Buffer = (file) => readFileSync(file)): string {
  const hash = createHash('sha256');
  for (const file of files) hash.update(`${file}\0`).update(read(file)).update('\0');
  return hash.digest('hex').slice(0, 16);
}

export const renderName = (environment: string, digest: string) => `rendered-${environment}-${digest}.yaml`;

/**
 * Renders some mirrors hold under another name, with the sha256 of each values file they used
 * (the workspace mirror names its Kong staging render by commit; its README gives the digests).
 */
const KNOWN_RENDERS: Array<{ chart: string; file: string; environment: string; values: Record<string, string> }> = [
  {
    chart: 'kong-2.48.0',
    file: 'rendered-staging-802b5c3.yaml',
    environment: 'staging',
    values: {
      'kong/values.yaml': '5ef686e741e5a8d45e9f66eb88fe6ac89ff3d272433f139c81c37511f0db8574',
      'kong/generated/staging/values.yaml': 'c3816e403da22edd833fc66dfd27fa19af5a5ac2b8a59c809894e881f6104412',
    },
  },
];

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

export type RenderLookup = { found: true; file: string } | { found: false; why: string; earlier: string | null };

/** The mirror's render of a chart with today's values files for `environment`, if it has one. */
export function renderWithTodaysValues(key: string, environment: string): RenderLookup {
  const pin = chartPin(key);
  const files = pin.renders[environment];
  if (!files) throw new Error(`${PINS_FILE} names no values for ${key} in ${environment}`);
  const digest = valuesDigest(files);
  const folder = join(mirrorDir(), chartFolder(pin));
  const named = join(folder, renderName(environment, digest));
  if (existsSync(named)) return { found: true, file: named };
  const known = KNOWN_RENDERS.find((render) => render.chart === chartFolder(pin) && render.environment === environment
    && files.every((file) => render.values[file] === sha256(file)) && Object.keys(render.values).length === files.length);
  if (known && existsSync(join(folder, known.file))) return { found: true, file: join(folder, known.file) };
  const others = readdirSync(folder).filter((file) => file.startsWith(`rendered-${environment}-`)).sort();
  return {
    found: false,
    earlier: others.length > 0 ? join(folder, others.at(-1) as string) : null,
    why: `the mirror has no render of ${chartFolder(pin)} with today's ${files.join(' + ')} (digest ${digest}${others.length ? `; it has ${others.join(', ')}` : ''}): refresh it with "make upstream-mirror OUT=dir"`,
  };
}

/** Argo CD 3.6 declares Go 1.27: the go command fetches that toolchain from the module proxy. */
const GO_ENV = { ...process.env, GOTOOLCHAIN: 'go1.27.3', GOFLAGS: '-mod=mod' };

/** A Go module's directory in the module cache (downloaded once). */
function goModuleDir(module: string, version: string): string {
  const output = execFileSync('go', ['mod', 'download', '-json', `${module}@${version}`], { encoding: 'utf8', env: GO_ENV, stdio: ['ignore', 'pipe', 'inherit'] });
  return (JSON.parse(output) as { Dir: string }).Dir;
}

/** The CRD files a test cluster installs: the pinned charts' (from the mirror) and the Go modules' of tools/upstream.yaml. */
export function crdFiles(): string[] {
  const pins = readPins();
  return [
    ...pins.crdCharts.map((key) => mirrorFile(chartPin(key), 'crds.yaml')),
    ...pins.crdModules.flatMap(({ module, version, files }: CrdModule) => files.map((file) => join(goModuleDir(module, version), file))),
  ];
}
