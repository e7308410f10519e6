#!/usr/bin/env bash
# Builds the data-plane addon (native/binding/build/Release/l4lb_native.node) with node-gyp,
# against the running Node's headers and Debian's DPDK. Incremental: make rebuilds only what
# changed; configure runs each time so new data-plane sources are picked up.
set -euo pipefail
cd "$(dirname "$0")/../native/binding"
[ -d /usr/include/node ] && export npm_config_nodedir=/usr
gyp=../../node_modules/.bin/node-gyp
"$gyp" configure --loglevel=warn
"$gyp" build --jobs "$(nproc)" --loglevel=warn
