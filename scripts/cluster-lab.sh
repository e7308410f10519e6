#!/usr/bin/env bash
# The multi-active cluster lab (docs/cluster.md): three l4lb nodes behind a bird2 router that
# spreads clients by ECMP, in network namespaces on this machine. Installs and builds what is
# missing, then runs the lab until `quit`. Needs root. With --etcd, virtual services and real
# servers live in a three-member etcd the nodes share (--config-store), written through one node.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests >/dev/null
exec node dist/test/e2e/cluster-lab-main.js "$@"
