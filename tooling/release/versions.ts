import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/**
 * Every place that names the release version, read from the repository: they must all agree, and
 * on a tag vX.Y.Z they must all say X.Y.Z (make release-check; tests/static/release-versions.test.ts).
 */
export type VersionPlace = { place: string; file: string; value: string };

type Read = (file: string) => string;
const readRepoFile: Read = (file) => readFileSync(file, 'utf8');

export function versionPlaces(read: Read = readRepoFile): VersionPlace[] {
  const chart = parse(read('charts/records/Chart.yaml')) as { version: string; appVersion: string };
  const values = parse(read('charts/records/values.yaml')) as { image: { tag: string } };
  const rootProduction = parse(read('argocd/root/production.yaml')) as { spec: { source: { targetRevision: string } } };
  const appsProduction = parse(read('argocd/apps/values-production.yaml')) as { targetRevision: string };
  const stagingValues = parse(read('argocd/values/records/staging.yaml')) as { image: { tag: string } };
  const stagingKong = parse(read('kong/environments/staging.yaml')) as { syncImage: string };
  const untagged = (revision: string) => revision.replace(/^v/, '');
  return [
    { place: 'package.json version', file: 'package.json', value: (JSON.parse(read('package.json')) as { version: string }).version },
    { place: 'Chart.yaml version', file: 'charts/records/Chart.yaml', value: String(chart.version) },
    { place: 'Chart.yaml appVersion', file: 'charts/records/Chart.yaml', value: String(chart.appVersion) },
    // An empty image.tag means the chart deploys its appVersion: the default image is the release's.
    { place: "the chart's default image tag", file: 'charts/records/values.yaml', value: values.image.tag === '' ? String(chart.appVersion) : values.image.tag },
    { place: 'Argo CD production root pin (tag)', file: 'argocd/root/production.yaml', value: untagged(rootProduction.spec.source.targetRevision) },
    { place: 'Argo CD production apps pin (tag)', file: 'argocd/apps/values-production.yaml', value: untagged(appsProduction.targetRevision) },
    { place: "staging's records image tag", file: 'argocd/values/records/staging.yaml', value: String(stagingValues.image.tag) },
    { place: "staging Kong's jwks-sync image", file: 'kong/environments/staging.yaml', value: stagingKong.syncImage.replace(/^.*:/, '') },
  ];
}

/** The places that do not say `version`, as messages naming each file. */
export function disagreements(version: string, places: VersionPlace[]): string[] {
  return places.filter((entry) => entry.value !== version).map((entry) => `${entry.place} (${entry.file}) says ${entry.value}, not ${version}`);
}
