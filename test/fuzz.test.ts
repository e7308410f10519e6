// The packet fuzzer (native/fuzz, issue 9) for its CI budget: `make -C native fuzz-run` runs
// libFuzzer with AddressSanitizer and UndefinedBehaviorSanitizer over the data plane's packet
// path for FUZZ_SECONDS on a copy of the seed corpus, and exits non-zero on a crash, a leak, a
// sanitizer report or a broken invariant; scripts/fuzz.sh runs it for longer. Each run draws a
// fresh seed (a fixed one would not make runs repeat: two runs with one seed part ways within a
// few thousand inputs here). A failure is reported with the input that caused it, which replays
// it. Without clang and its libFuzzer runtime the test is skipped, except under CI=true, where
// that fails.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectFile } from '../lib/project-files.js';
import { missingClangSanitizers } from './clang-sanitizers.js';

const budgetSeconds = 60;
const minimumRuns = 10_000;   // a few thousand inputs a second even on a small CI machine
const artifacts = projectFile('native', 'build', 'fuzz', 'artifacts');

// What a failed run said, most telling first, since a CI log may keep only the head of a long
// message: how make ended, the report from its first error line (libFuzzer's progress lines and
// dictionary left out), and each input that failed in hex, also copied to test-artifacts/fuzz/
// (`native/build/fuzz/packet-fuzzer <file>` replays it).
function failureReport(result: SpawnSyncReturns<string>, output: string): string {
  const noise = /^#\d+\s|^\s+NEW_FUNC|^"|^INFO: (?!Seed)|^###/;
  const lines = output.split('\n').filter((line) => !noise.test(line));
  const first = lines.findIndex((line) => /ERROR|runtime error|^fuzz: |deadly signal|SUMMARY|Killed|\*\*\*/.test(line));
  const inputs = existsSync(artifacts) ? readdirSync(artifacts) : [];
  if (inputs.length) mkdirSync(projectFile('test-artifacts', 'fuzz'), { recursive: true });
  const saved = inputs.map((name) => {
    copyFileSync(join(artifacts, name), projectFile('test-artifacts', 'fuzz', name));
    return `${name}: ${readFileSync(join(artifacts, name)).subarray(0, 4096).toString('hex')}`;
  });
  return [
    `make -C native fuzz-run FUZZ_SECONDS=${budgetSeconds} ended with status ${result.status}, signal ${result.signal}`,
    ...saved,
    lines.slice(Math.max(first, 0)).join('\n').slice(0, 8000),
    ...lines.filter((line) => line.startsWith('INFO: Seed')),
  ].join('\n');
}

test(`the packet fuzzer runs clean for ${budgetSeconds} s`, { skip: missingClangSanitizers() }, () => {
  const result = spawnSync('make', ['-s', '-C', projectFile('native'), '-j', '2', 'fuzz-run', `FUZZ_SECONDS=${budgetSeconds}`], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    timeout: 15 * 60_000,   // building the instrumented data plane takes a few minutes
  });
  const output = `${result.stdout}${result.stderr}`;
  assert.equal(result.status, 0, failureReport(result, output));
  const done = /Done (\d+) runs in (\d+) second/.exec(output);
  assert.ok(done, `no final "Done N runs" line from libFuzzer:\n${output.slice(-4000)}`);
  assert.ok(Number(done[1]) > minimumRuns, `only ${done[1]} runs in ${done[2]} s:\n${output.slice(-4000)}`);
});
