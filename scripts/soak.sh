#!/usr/bin/env bash
# The soak: traffic, configuration churn and faults together for a chosen time against one
# appliance in network namespaces (test/soak/main.ts), a line every interval and a memory
# verdict at the end; samples in bench-out/soak-<timestamp>.json. Needs root. Builds first
# when a source is newer than the build.
#   scripts/soak.sh [--minutes N] [--interval-s S] [--fault-every-s S] [--churn-ms MS]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "soak: needs root (network namespaces, nftables)" >&2
  exit 1
fi
built=dist/test/soak/main.js
if [ ! -f "$built" ] || [ -n "$(find lib api engine store bin test native/dataplane native/binding -newer "$built" \
    \( -name '*.ts' -o -name '*.cc' -o -name '*.h' \) -not -path '*/build/*' -print -quit)" ]; then
  # Incremental (no `rm -rf dist` as npm run build does): other runs may be using dist.
  bash scripts/build-native.sh
  npx tsc -p tsconfig.json
fi
exec node "$built" "$@"
