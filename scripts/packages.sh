# Sourced by setup.sh and bench-tools.sh: the Debian packages l4lb needs, in two lists.

# The appliance: the toolchain for the native parts (better-sqlite3 builds from source, the
# data plane builds against DPDK), the tools the health checker configures its exception
# interfaces with (ip, ethtool, sysctl), and bird2, the BGP speaker a cluster node drives.
runtime_packages=(build-essential python3 pkg-config libdpdk-dev iproute2 ethtool procps bird2)

# The tests: first what the end-to-end namespace tests (test/e2e/) run: ping, nft, tcpdump,
# curl and nginx as the real servers; then what the session-sync tests run: Redis, a MariaDB
# server and client as the long-lived database connection, redis-sentinel for a sync bus
# without a single point of failure, keepalived to check the shipped
# VRRP example; then the browser the admin panel's end-to-end test drives (headless, through
# playwright-core, which brings no browser of its own); then clang with its sanitizer and
# libFuzzer runtimes, for the packet fuzzer (native/fuzz, test/fuzz.test.ts); then etcd and
# etcdctl, as the etcd configuration-store tests start a three-member etcd cluster.
test_packages=(iputils-ping nftables tcpdump curl nginx-light wrk
  redis-server redis-sentinel mariadb-server mariadb-client keepalived
  chromium
  clang libclang-rt-14-dev
  etcd-server etcd-client)
