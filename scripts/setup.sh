#!/usr/bin/env bash
# Installs what l4lb needs on a fresh Debian 12 machine, skipping what is already there, then
# builds it. `setup.sh` alone installs what the appliance runs on (scripts/run.sh);
# `setup.sh --tests` adds what the test suite drives (scripts/test.sh). Safe to run any
# number of times.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/packages.sh
packages=("${runtime_packages[@]}")
case "${1:-}" in
  --tests) packages+=("${test_packages[@]}") ;;
  "") ;;
  *) echo "usage: scripts/setup.sh [--tests]" >&2; exit 2 ;;
esac

. scripts/apt-install.sh
install_missing setup "${packages[@]}"

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo none)
if [ "$node_major" != 20 ]; then
  echo "setup: l4lb needs Node.js 20 (found: $node_major)" >&2
  exit 1
fi

# 2 MB hugepages for DPDK's memory; without them the engine falls back to --no-huge.
hp=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
if [ -w "$hp" ] && [ "$(cat "$hp")" -lt 256 ]; then
  echo 256 >"$hp" || echo "setup: could not reserve hugepages; DPDK will run without them" >&2
fi

# npm packages, reinstalled only when package-lock.json changed since the last install.
# better-sqlite3 compiles against the headers of the Node that runs it.
[ -d /usr/include/node ] && export npm_config_nodedir=/usr
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi

npm run --silent build
