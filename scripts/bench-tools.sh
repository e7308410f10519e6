#!/usr/bin/env bash
# Installs the programs the benchmarks (npm run bench, npm run bench:sync) drive, skipping what
# is already there: wrk (HTTP load), iperf3 (bulk flows), haproxy (a peer load balancer),
# gnuplot-nox (the chart) and netsniff-ng (trafgen: SYNs at a set rate for the sync benchmark),
# with the test tools the benchmarks share with the end-to-end tests (nginx, curl, Redis...).
# Kept out of scripts/setup.sh so a plain run or test installs nothing more.
set -euo pipefail

cd "$(dirname "$0")/.."
. scripts/apt-install.sh
. scripts/packages.sh
# The packaged haproxy service is never what the benchmark runs (it starts its own).
install_missing bench-tools "${test_packages[@]}" wrk iperf3 haproxy gnuplot-nox netsniff-ng
