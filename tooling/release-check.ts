/**
 * `make release-check VERSION=x.y.z`: what a tag vX.Y.Z would publish, after checking that every
 * place naming the version says X.Y.Z (tooling/release/versions.ts). Exit 1 when one does not;
 * without VERSION, checks that the places agree with package.json. The release workflow runs it
 * first, so a tag whose files disagree publishes nothing.
 *
 * usage: tsx tooling/release-check.ts [VERSION] [--owner OWNER]
 */
import { parseArgs } from 'node:util';
import { disagreements, versionPlaces } from './release/versions.js';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { owner: { type: 'string', default: 'records' } } });
const places = versionPlaces();
const version = positionals[0] || (places[0]?.value as string);
if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version)) {
  console.error(`release-check: ${JSON.stringify(version)} is not a semantic version (x.y.z)`);
  process.exit(2);
}
const problems = disagreements(version, places);
for (const entry of places) console.log(`${entry.value === version ? 'ok  ' : 'FAIL'} ${entry.place}: ${entry.value} (${entry.file})`);
if (problems.length > 0) {
  console.error(`\nA tag v${version} would publish nothing: ${problems.length} place(s) disagree.\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exit(1);
}
const owner = values.owner.toLowerCase();
console.log(`
A tag v${version} publishes (.github/workflows/release.yaml):
  image  ghcr.io/${owner}/records:${version}  linux/amd64 + linux/arm64, from the Dockerfile
         signed with cosign (keyless), CycloneDX SBOM attested, SLSA build provenance attested
  chart  oci://ghcr.io/${owner}/charts/records  version ${version}, appVersion ${version}, signed with cosign
  release v${version} on GitHub: notes with both digests and the cosign verify command, the SBOM attached
Argo CD production follows once argocd/root/production.yaml's pin (v${version}) is on the default branch.`);
