import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { expect } from 'chai';

/**
 * The folder rules of .dependency-cruiser.cjs (make lint) fail a violation: each case is a small
 * tree of service/src with one forbidden import, checked by dependency-cruiser with the project's
 * own rules and TypeScript settings.
 */

const DEPCRUISE = resolve('node_modules/.bin/depcruise');

function cruise(files: Record<string, string>): { status: number; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'records-architecture-'));
  try {
    copyFileSync('.dependency-cruiser.cjs', join(dir, '.dependency-cruiser.cjs'));
    copyFileSync('tsconfig.json', join(dir, 'tsconfig.json'));
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(dir, dirname(path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    const result = spawnSync(DEPCRUISE, ['service/src', '--validate', '.dependency-cruiser.cjs'], { cwd: dir, encoding: 'utf8' });
    return { status: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const text = { 'service/src/api/domain/text.ts': 'export const foldText = (value: string) => value.toLowerCase();\n' };

describe('the folder rules (.dependency-cruiser.cjs), held to a deliberate violation', function () {
  this.timeout(60_000);

  it('accepts a program that imports only itself and shared/', function () {
    const result = cruise({ ...text, 'service/src/api/search.ts': "import { foldText } from './domain/text.js';\nexport const search = foldText;\n" });
    expect(result.status, result.output).to.equal(0);
  });

  it('refuses the loader importing the API\'s domain', function () {
    const result = cruise({ ...text, 'service/src/loader/fold.ts': "import { foldText } from '../api/domain/text.js';\nexport const fold = foldText;\n" });
    expect(result.status).to.not.equal(0);
    expect(result.output).to.contain('loader-imports-only-itself-clients-shared');
  });

  it('refuses the domain importing the HTTP layer, and main.ts reaching past a program\'s description', function () {
    const result = cruise({
      'service/src/api/http/status.ts': 'export const OK = 200;\n',
      'service/src/api/domain/rule.ts': "import { OK } from '../http/status.js';\nexport const rule = OK;\n",
      'service/src/main.ts': "import { rule } from './api/domain/rule.js';\nconsole.log(rule);\n",
    });
    expect(result.status).to.not.equal(0);
    expect(result.output).to.contain('domain-depends-on-nothing-outside');
    expect(result.output).to.contain('main-only-dispatches');
  });
});
