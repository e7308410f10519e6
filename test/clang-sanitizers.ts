// Whether clang++ and its sanitizer and libFuzzer runtimes (Debian: clang, libclang-rt-14-dev)
// are here, for the tests that build the data plane with them. Missing, such a test is
// skipped with the reason, except under CI=true, where that fails.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export function missingClangSanitizers(): string | undefined {
  const runtimes = spawnSync('clang++', ['--print-runtime-dir'], { encoding: 'utf8' });
  const runtime = runtimes.status === 0 ? join(runtimes.stdout.trim(), 'libclang_rt.fuzzer-x86_64.a') : '';
  if (runtime && existsSync(runtime)) return undefined;
  const reason = 'needs clang++ and libFuzzer (Debian: clang, libclang-rt-14-dev; scripts/setup.sh --tests installs them)';
  if (process.env.CI === 'true') throw new Error(`${reason}; refusing to skip under CI=true`);
  return reason;
}
