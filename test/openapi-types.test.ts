// The TypeScript types of every object come from openapi.yaml (lib/openapi-types.ts, made by
// `npm run types`): this fails when the contract changed and the types were not made again.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectFile } from '../lib/project-files.js';

test('lib/openapi-types.ts is what openapi-typescript makes of openapi.yaml', () => {
  const dir = mkdtempSync(join(tmpdir(), 'l4lb-types-'));
  try {
    const fresh = join(dir, 'openapi-types.ts');
    execFileSync(process.execPath, [projectFile('node_modules/openapi-typescript/bin/cli.js'), projectFile('openapi.yaml'), '-o', fresh], { stdio: 'pipe' });
    const committed = readFileSync(projectFile('lib/openapi-types.ts'), 'utf8');
    assert.ok(readFileSync(fresh, 'utf8') === committed, 'lib/openapi-types.ts is stale: run `npm run types` and commit it');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
