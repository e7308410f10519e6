#!/usr/bin/env bash
# Installs the programs the comparison benchmark (npm run bench) drives, skipping what is
# already there: wrk (HTTP load), iperf3 (bulk flows), haproxy (a peer load balancer) and
# gnuplot-nox (the chart). Kept out of scripts/setup.sh so a plain run or test installs nothing more.
set -euo pipefail

cd "$(dirname "$0")/.."
. scripts/apt-install.sh
# The packaged haproxy service is never what the benchmark runs (it starts its own).
install_missing bench-tools wrk iperf3 haproxy gnuplot-nox
