#!/usr/bin/env bash
# Installs what is missing, builds, and runs the appliance in the foreground.
# Arguments go to `l4lb serve` (see `node dist/bin/l4lb.js --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node dist/bin/l4lb.js serve "$@"
