#!/usr/bin/env bash
# Runs the packet fuzzer (native/fuzz) longer than the test suite's budget: fuzz.sh [seconds],
# default 3600. Installs clang and libFuzzer if missing. Fails on any crash, leak, sanitizer
# report or broken invariant; the input that caused it is left in native/build/fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/apt-install.sh
install_missing fuzz clang libclang-rt-14-dev pkg-config libdpdk-dev
make -C native -j "$(nproc)" fuzz-run FUZZ_SECONDS="${1:-3600}"
