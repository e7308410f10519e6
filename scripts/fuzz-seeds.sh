#!/usr/bin/env bash
# Captures real traffic for the packet fuzzer's seed corpus (native/fuzz/corpus/), then turns
# it into seeds with scripts/fuzz-seeds.mjs. Needs root, tcpdump, nginx, socat, curl, ping.
#
# Network namespaces whose addresses and MACs are those of the fuzzer's lab (native/test/lab.h),
# so the captured frames are what the load balancer's two NICs would receive:
#
#   fzs-client 10.0.0.1, 2001:db8::1 (…:01) ─── fzs-vip 10.0.0.100, 2001:db8::100 (…:a1)   the client side
#   fzs-lip 10.1.0.2, 2001:db8:1::2 (…:b1) ─── fzs-router (…:11, proxy ARP and NDP)
#                                           ─── fzs-rs 10.1.0.11, 2001:db8:1::11
#
# fzs-vip and fzs-rs run nginx (TCP 80-84, 8080) and socat UDP echoes (53, 54, 8080; over IPv6
# also 55), on both families: the IPv6 VIP's ports 84 and 55 are the fuzz lab's NAT64 services.
# IPv6 runs without duplicate address detection, router solicitations or (but on the router)
# link-local addresses, so neighbour discovery is all it adds to the wire.
# The router's link to the real server has an MTU of 1280 (IPv6's least), 1000 for IPv4 by its
# route, so large segments from the local address draw ICMP "fragmentation needed" and ICMPv6
# "packet too big". Usage: fuzz-seeds.sh [corpus dir]
#
# Last, the frame seeds run through the fuzzer once with L4LB_FUZZ_PEER_SEEDS set: the sync
# records its workers write for those sessions become the peer-* seeds (what a sync peer sends).
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${1:-native/fuzz/corpus}
work=$(mktemp -d /tmp/fuzz-seeds.XXXXXX)
names=(client vip lip router rs)

ns() { ip netns exec "fzs-$1" "${@:2}"; }

pids=()
cleanup() {
  [ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true
  for n in "${names[@]}"; do   # what is left in our namespaces (nginx, socat's children) is ours
    ip netns pids "fzs-$n" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del "fzs-$n" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

link() {  # ns-a dev-a mac-a ns-b dev-b mac-b
  ip link add "$2" netns "fzs-$1" type veth peer name "$5" netns "fzs-$4"
  ns "$1" ip link set "$2" address "$3" up
  ns "$4" ip link set "$5" address "$6" up
  for end in "$1 $2" "$4 $5"; do
    set -- $end
    ns "$1" ethtool -K "$2" tx off tso off gso off gro off >/dev/null
  done
}

for n in "${names[@]}"; do
  ip netns add "fzs-$n"
  ns "$n" ip link set lo up
  ns "$n" sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.default.router_solicitations=0
  # No link-local addresses, but on the router: it solicits neighbours for packets it forwards.
  [ "$n" = router ] || ns "$n" sysctl -qw net.ipv6.conf.default.addr_gen_mode=1
done
link client eth0 02:00:00:00:00:01 vip eth0 02:00:00:00:00:a1
link lip eth0 02:00:00:00:00:b1 router rl 02:00:00:00:00:11
link router rs 02:00:00:00:00:21 rs eth0 02:00:00:00:00:22
addresses() {  # ns ipv4/length ipv6/length
  ns "$1" ip addr add "$2" dev eth0
  ns "$1" ip addr add "$3" dev eth0 nodad
}
addresses client 10.0.0.1/24 2001:db8::1/64
addresses vip 10.0.0.100/24 2001:db8::100/64
addresses lip 10.1.0.2/24 2001:db8:1::2/64
addresses rs 10.1.0.11/24 2001:db8:1::11/64
ns router ip link set rs mtu 1280
ns router ip route add 10.1.0.2/32 dev rl
ns router ip route add 10.1.0.11/32 dev rs mtu lock 1000
ns router ip route add 2001:db8:1::2/128 dev rl
ns router ip route add 2001:db8:1::11/128 dev rs
ns router sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.proxy_arp=1 net.ipv4.conf.rl.proxy_arp=1 \
  net.ipv4.conf.rs.proxy_arp=1 net.ipv6.conf.all.forwarding=1 net.ipv6.conf.all.proxy_ndp=1
ns router ip neigh add proxy 2001:db8:1::11 dev rl
ns router ip neigh add proxy 2001:db8:1::2 dev rs
ns router ip addr add 10.1.0.1/32 dev rl   # the sources of its ICMP errors
ns router ip addr add 2001:db8:1::1/128 dev rl nodad

cat >"$work/nginx.conf" <<EOF
worker_processes 1;
pid $work/nginx-\$hostname.pid;
error_log $work/nginx-error.log;
events {}
http {
  access_log off;
  client_body_temp_path $work;
  server {
    listen 80; listen 81; listen 82; listen 83; listen 84; listen 8080;
    listen [::]:80; listen [::]:81; listen [::]:82; listen [::]:83; listen [::]:84; listen [::]:8080;
    location / { return 200 "hello from a fuzz seed capture\n"; }
  }
}
EOF
for server in vip rs; do
  sed "s/\\\$hostname/$server/" "$work/nginx.conf" >"$work/nginx-$server.conf"
  ns "$server" nginx -c "$work/nginx-$server.conf" -p "$work"
done
echo_udp() {  # ns socat-address
  ns "$1" socat "$2,fork" PIPE &
  pids+=($!)
}
for port in 53 54; do echo_udp vip UDP4-RECVFROM:$port; done
for port in 53 54 55; do echo_udp vip UDP6-RECVFROM:$port,ipv6only=1; done
echo_udp rs UDP4-RECVFROM:8080
echo_udp rs UDP6-RECVFROM:8080,ipv6only=1
sleep 1

ns vip tcpdump -i eth0 -U -s 2048 -w "$work/client-side.pcap" 2>/dev/null &
captures=($!)
ns lip tcpdump -i eth0 -U -s 2048 -w "$work/server-side.pcap" 2>/dev/null &
captures+=($!)
pids+=("${captures[@]}")
sleep 1

# Client side: HTTP to each TCP service, UDP to both, echo, record route (IP options),
# fragmented echo and datagram.
for port in 80 81 82 83; do ns client curl -s --local-port $((40000 + port)) -o /dev/null "http://10.0.0.100:$port/"; done
for port in 53 54; do echo "query $port" | ns client socat -T1 - UDP4:10.0.0.100:$port,sourceport=$((40000 + port)) >/dev/null; done
ns client ping -qc1 10.0.0.100 >/dev/null
ns client ping -qc1 -R 10.0.0.100 >/dev/null
ns client ping -qc1 -M dont -s 2000 10.0.0.100 >/dev/null
head -c 1800 /dev/zero | ns client socat -T1 - UDP4:10.0.0.100:53,sourceport=40153 >/dev/null
# The same over IPv6 from client ports 41000 up (the first draws a neighbour solicitation for
# the VIP), to the NAT64 services too; the large echo goes in fragments.
for port in 80 81 82 83 84; do ns client curl -s --local-port $((41000 + port)) -o /dev/null "http://[2001:db8::100]:$port/"; done
for port in 53 54 55; do echo "query $port" | ns client socat -T1 - "UDP6:[2001:db8::100]:$port,sourceport=$((41000 + port))" >/dev/null; done
ns client ping -6 -qc1 2001:db8::100 >/dev/null
ns client ping -6 -qc1 -s 2000 2001:db8::100 >/dev/null

# Server side: the local address to the real server, a datagram, and segments too large for
# the router's MTU (ICMP fragmentation needed, quoting TCP and ICMP).
ns lip curl -s --local-port 1024 -o /dev/null http://10.1.0.11:8080/
echo datagram | ns lip socat -T1 - UDP4:10.1.0.11:8080,sourceport=1025 >/dev/null
head -c 3000 /dev/zero | ns lip curl -s --local-port 1026 -o /dev/null --data-binary @- http://10.1.0.11:8080/ || true
ns lip ping -qc1 -M do -s 1200 10.1.0.11 >/dev/null || true
# Over IPv6 from local ports 1027 up: the router's neighbour advertisement for the real server
# comes first, and its "packet too big" for the large segments.
ns lip curl -s --local-port 1027 -o /dev/null "http://[2001:db8:1::11]:8080/"
echo datagram | ns lip socat -T1 - "UDP6:[2001:db8:1::11]:8080,sourceport=1028" >/dev/null
head -c 3000 /dev/zero | ns lip curl -s --local-port 1029 -o /dev/null --data-binary @- "http://[2001:db8:1::11]:8080/" || true
sleep 1

kill -TERM "${captures[@]}"
wait "${captures[@]}" || true
node scripts/fuzz-seeds.mjs "$corpus" "$work/client-side.pcap" "$work/server-side.pcap"

# Peer seeds: the sessions the frame seeds open, as their sync records.
make -s -C native fuzz
rm -f "$corpus"/peer-*
L4LB_FUZZ_PEER_SEEDS="$(realpath "$corpus")" native/build/fuzz/packet-fuzzer -runs=0 "$corpus" >/dev/null 2>&1
