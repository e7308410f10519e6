#!/usr/bin/env python3
"""Sends TCP SYNs from made-up clients: a bounded SYN flood for the end-to-end fault tests.

Each SYN comes from a random address of --src-net's hosts --src-first..--src-last and a random
port, so each one opens a new session on a load balancer, and none is ever answered (nothing
owns those addresses): the sessions stay half-open until their SYN_RECV timeout. The rate is
paced in small batches; the run stops at --count SYNs or --max-seconds, whichever comes first.
Needs CAP_NET_RAW (root). Prints {"sent": n, "seconds": s} as JSON.
"""
import argparse
import ipaddress
import json
import random
import socket
import struct
import time


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def syn(src: bytes, dst: bytes, sport: int, dport: int) -> bytes:
    seq = random.getrandbits(32)
    # data offset 5 words, flags SYN, window 64240, no options
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x02, 64240, 0, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    # The kernel fills in the IP id and checksum (IP_HDRINCL with both left 0).
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, socket.IPPROTO_TCP, 0, src, dst)
    return ip + tcp


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--dst", required=True)
    p.add_argument("--dport", type=int, required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--rate", type=int, required=True, help="SYNs per second")
    p.add_argument("--max-seconds", type=float, required=True)
    p.add_argument("--src-net", required=True, help="e.g. 10.0.1.0/24")
    p.add_argument("--src-first", type=int, required=True, help="first host number used")
    p.add_argument("--src-last", type=int, required=True, help="last host number used")
    a = p.parse_args()
    net = ipaddress.ip_network(a.src_net)
    sources = [(net.network_address + h).packed for h in range(a.src_first, a.src_last + 1)]
    dst = ipaddress.ip_address(a.dst).packed
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    batch = max(1, a.rate // 200)
    start = time.monotonic()
    sent = 0
    while sent < a.count and time.monotonic() - start < a.max_seconds:
        for _ in range(min(batch, a.count - sent)):
            s.sendto(syn(random.choice(sources), dst, random.randint(1024, 65535), a.dport), (a.dst, 0))
            sent += 1
        ahead = start + sent / a.rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
    print(json.dumps({"sent": sent, "seconds": round(time.monotonic() - start, 3)}))


if __name__ == "__main__":
    main()
