// The TypeScript types of every object come from openapi.yaml (lib/openapi-types.ts, made by
// `npm run types`): this fails when the contract changed and the types were not made again;
// and the data plane's conversion reads service settings by the contract's names.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
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

test('the data plane reads each service setting under a name the contract gives VirtualService', () => {
  const convert = readFileSync(projectFile('native/binding/convert.cc'), 'utf8');
  const body = /void read_service_settings\([^)]*\) \{([\s\S]*?)\n\}/.exec(convert)?.[1];
  assert.ok(body, 'read_service_settings is in native/binding/convert.cc');
  const read = [...body.matchAll(/\(o, "(\w+)"\)|o\.Get\("(\w+)"\)/g)].map((m) => m[1] ?? m[2]);
  assert.ok(read.includes('clientAddress') && read.includes('enabled'), `read: ${read.join(', ')}`);
  const contract = parse(readFileSync(projectFile('openapi.yaml'), 'utf8')) as { components: { schemas: { VirtualService: { properties: object } } } };
  const properties = Object.keys(contract.components.schemas.VirtualService.properties);
  for (const name of read) assert.ok(properties.includes(name), `${name} is a VirtualService property in openapi.yaml`);
});
