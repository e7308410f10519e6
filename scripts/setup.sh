#!/usr/bin/env bash
# Installs what l4lb needs on a fresh Debian 12 machine, skipping what is already there, then
# builds it. `setup.sh` alone installs what the appliance runs on (scripts/run.sh);
# `setup.sh --tests` adds what the test suite drives (scripts/test.sh). Safe to run any
# number of times.
set -euo pipefail
cd "$(dirname "$0")/.."

# The appliance: the toolchain for the native parts (better-sqlite3 builds from source, the
# data plane builds against DPDK) and the tools the health checker configures its exception
# interfaces with (ip, ethtool, sysctl).
packages=(build-essential python3 pkg-config libdpdk-dev iproute2 ethtool procps)

# The tests: first what the end-to-end namespace tests (test/e2e/) run: ping, nft, tcpdump,
# curl and nginx as the real servers; then what the session-sync tests run: Redis, a MariaDB
# server and client as the long-lived database connection, keepalived to check the shipped
# VRRP example; then the browser the admin panel's end-to-end test drives (headless, through
# playwright-core, which brings no browser of its own).
test_packages=(iputils-ping nftables tcpdump curl nginx-light
  redis-server mariadb-server mariadb-client keepalived
  chromium)

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
