// Runs the data plane's own unit tests (native/test, built by native/Makefile) as part of the
// suite: crafted frames through workers on net_ring ports, the session table, schedulers,
// snapshots and ports. Their runner prints "N passed, N failed" and exits non-zero on failure.
// They run twice: built with g++ -O2 as the appliance is, and with clang, AddressSanitizer and
// UndefinedBehaviorSanitizer, where undefined behaviour they reach (a header read at an odd
// address, say) fails them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { projectFile } from '../lib/project-files.js';
import { missingClangSanitizers } from './clang-sanitizers.js';
import { loadNative } from '../engine/dataplane/native.js';
import { syncRecordSize } from '../engine/sync/wire.js';

function runNativeTests(target: string): void {
  const result = spawnSync('make', ['-s', '-C', projectFile('native'), '-j', '2', target], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    timeout: 15 * 60_000,
  });
  const output = `${result.stdout}${result.stderr}`;
  const summary = /(\d+) passed, (\d+) failed/.exec(result.stdout);
  assert.ok(summary, `no test summary from the native runner:\n${output.slice(-4000)}`);
  assert.equal(Number(summary[2]), 0, output.slice(-8000));
  assert.ok(Number(summary[1]) > 0);
  assert.equal(result.status, 0, output.slice(-4000));
}

test('native data-plane unit tests pass', () => runNativeTests('test'));

test('the sync wire record size in TypeScript is the data plane\'s', () => {
  assert.equal(loadNative().syncRecordSize, syncRecordSize);
});

test('native data-plane unit tests pass under ASan and UBSan', { skip: missingClangSanitizers() }, () =>
  runNativeTests('test-sanitized'));
