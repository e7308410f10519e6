#!/usr/bin/env bash
# Installs the programs the comparison benchmark (npm run bench) drives, skipping what is
# already there: wrk (HTTP load), iperf3 (bulk flows), haproxy (a peer load balancer) and
# gnuplot-nox (the chart). Kept out of scripts/setup.sh so a plain run or test installs nothing more.
set -euo pipefail

packages=(wrk iperf3 haproxy gnuplot-nox)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench-tools: installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  # policy-rc.d or not, the packaged haproxy service is never what the benchmark runs.
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
