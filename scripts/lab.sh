#!/usr/bin/env bash
# A try-out network on this host, for the README's walkthrough: a client and two real servers
# (nginx answering with their names) in network namespaces, and two veths in the current
# namespace, c0 (client side) and s0 (server side), for the appliance's DPDK af_packet ports.
#
#   l4lab-client eth0 10.0.1.1 ──── c0 [appliance] s0 ──── bridge (l4lab-sw) ─┬─ l4lab-rs1 eth0 10.0.2.11
#                                                                          └─ l4lab-rs2 eth0 10.0.2.12
#
# c0 and s0 get no address and an nftables ingress drop, so this host's kernel never answers
# on them while af_packet still sees every frame. Usage: lab.sh up | down. Needs root.
set -euo pipefail
dir=/tmp/l4lab

ns() { ip netns exec "l4lab-$1" "${@:2}"; }

veth_pair() {  # name-here peer-name peer-namespace
  ip link add "$1" type veth peer name "$2" netns "l4lab-$3"
  ethtool -K "$1" tx off >/dev/null
  ns "$3" ethtool -K "$2" tx off >/dev/null
}

up() {
  # The walkthrough's tools; the appliance itself needs none of them (scripts/setup.sh).
  . "$(dirname "$0")/apt-install.sh"
  install_missing lab nginx-light nftables curl iputils-ping
  for n in client sw rs1 rs2; do
    ip netns add "l4lab-$n"
    ns "$n" ip link set lo up
    ns "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  done
  ip link add c0 type veth peer name eth0 netns l4lab-client
  ethtool -K c0 tx off >/dev/null && ns client ethtool -K eth0 tx off >/dev/null
  ns client ip addr add 10.0.1.1/24 dev eth0
  ns client ip link set eth0 up

  ns sw ip link add brs type bridge stp_state 0 forward_delay 0
  ns sw ip link set brs up
  ip link add s0 type veth peer name lb netns l4lab-sw
  ethtool -K s0 tx off >/dev/null && ns sw ethtool -K lb tx off >/dev/null
  ns sw ip link set lb master brs up
  mkdir -p "$dir"
  for i in 1 2; do
    ns sw ip link add "rs$i" type veth peer name eth0 netns "l4lab-rs$i"
    ns sw ethtool -K "rs$i" tx off >/dev/null && ns "rs$i" ethtool -K eth0 tx off >/dev/null
    ns sw ip link set "rs$i" master brs up
    ns "rs$i" ip addr add "10.0.2.1$i/24" dev eth0
    ns "rs$i" ip link set eth0 up
    mkdir -p "$dir/rs$i"
    cat >"$dir/rs$i/nginx.conf" <<CONF
daemon off; pid $dir/rs$i/nginx.pid; error_log $dir/rs$i/error.log;
events {}
http { access_log off; server { listen 10.0.2.1$i:80; location / { return 200 "rs$i\n"; } } }
CONF
    ns "rs$i" nginx -c "$dir/rs$i/nginx.conf" &
  done

  for ifc in c0 s0; do
    sysctl -qw "net.ipv6.conf.$ifc.disable_ipv6=1"
    nft -f - <<NFT
table netdev l4lab_$ifc {
  chain ingress {
    type filter hook ingress device "$ifc" priority 0; policy drop;
  }
}
NFT
    ip link set "$ifc" up
  done
  echo "lab up: try 'ip netns exec l4lab-client curl http://10.0.1.10/' once the appliance is configured"
}

down() {
  for i in 1 2; do
    [ -f "$dir/rs$i/nginx.pid" ] && kill "$(cat "$dir/rs$i/nginx.pid")" 2>/dev/null || true
  done
  for ifc in c0 s0; do
    nft delete table netdev "l4lab_$ifc" 2>/dev/null || true
    ip link delete "$ifc" 2>/dev/null || true
  done
  for n in client sw rs1 rs2; do ip netns delete "l4lab-$n" 2>/dev/null || true; done
  rm -rf "$dir"
  echo "lab down"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
