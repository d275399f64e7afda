/**
 * `make release-check VERSION=x.y.z`: what a tag vX.Y.Z would publish, after checking that every
 * place naming the version says X.Y.Z (tooling/release/versions.ts). Exit 1 when one does not;
 * without VERSION, checks that the places agree with package.json. The release workflow runs it
 * first, so a tag whose files disagree publishes nothing.
 *
 * It also checks that the chart's default image is the one the workflow publishes
 * (ghcr.io/OWNER/records, OWNER the repository's owner).
 *
 * usage: tsx tooling/release-check.ts [VERSION] [--owner OWNER]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { disagreements, versionPlaces } from './release/versions.js';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { owner: { type: 'string', default: 'records' } } });
const places = versionPlaces();
const version = positionals[0] || (places[0]?.value as string);
if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version)) {
  console.error(`release-check: ${JSON.stringify(version)} is not a semantic version (x.y.z)`);
  process.exit(2);
}
const owner = values.owner.toLowerCase();
// The chart installs, with no values, the image the workflow publishes: a fork sets its own owner.
const published = `ghcr.io/${owner}/records`;
const chartImage = (parse(readFileSync('charts/records/values.yaml', 'utf8')) as { image: { repository: string } }).image.repository;
const problems = [
  ...disagreements(version, places),
  ...(chartImage === published ? [] : [`charts/records/values.yaml image.repository is ${chartImage}, but the release publishes ${published}: set it to that`]),
];
console.log(`${chartImage === published ? 'ok  ' : 'FAIL'} the chart's default image: ${chartImage} (charts/records/values.yaml)`);
for (const entry of places) console.log(`${entry.value === version ? 'ok  ' : 'FAIL'} ${entry.place}: ${entry.value} (${entry.file})`);
if (problems.length > 0) {
  console.error(`\nA tag v${version} would publish nothing: ${problems.length} place(s) disagree.\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exit(1);
}
console.log(`
A tag v${version} publishes (.github/workflows/release.yaml):
  image  ghcr.io/${owner}/records:${version}  linux/amd64 + linux/arm64, from the Dockerfile
         signed with cosign (keyless), CycloneDX SBOM attested, SLSA build provenance attested
  chart  oci://ghcr.io/${owner}/charts/records  version ${version}, appVersion ${version}, signed with cosign
  release v${version} on GitHub: notes with both digests and the cosign verify command, the SBOM attached
Argo CD production follows once argocd/root/production.yaml's pin (v${version}) is on the default branch.`);
