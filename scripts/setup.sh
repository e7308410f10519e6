#!/usr/bin/env bash
# Installs what l4lb needs on a fresh Debian 12 machine, skipping what is already there, then
# builds it. Called by scripts/run.sh and scripts/test.sh; safe to run any number of times.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: the toolchain for the native parts (better-sqlite3 builds from source,
# the data plane builds against DPDK) and the programs the tests drive; the second line is
# what the end-to-end namespace tests (test/e2e/) run: ip, ping, nft, ethtool, sysctl, tcpdump,
# curl and nginx as the real servers; the third what the session-sync tests run: Redis, a
# MariaDB server and client as the long-lived database connection, keepalived to check the
# shipped VRRP example; the fourth the browser the admin panel's end-to-end test drives
# (headless, through playwright-core, which brings no browser of its own).
packages=(build-essential python3 pkg-config libdpdk-dev
  iproute2 iputils-ping nftables ethtool procps tcpdump curl nginx-light
  redis-server mariadb-server mariadb-client keepalived
  chromium)

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
