#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test. Under CI=true, tests that need
# privileges they do not have fail instead of being skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests
mapfile -t tests < <(find dist/test -name "*.test.js" | sort)
node --test --test-concurrency=1 "${tests[@]}"
