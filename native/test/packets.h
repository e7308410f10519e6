// Frames for the packet-path tests: crafting (TCP, UDP, ICMP echo, ARP) into mbufs and
// reading back what a worker sent. Addresses and ports are in host byte order.
#pragma once

#include <cstdint>

#include <rte_ip.h>
#include <rte_mbuf.h>

#include "snapshot.h"

namespace packets {

using l4lb::Ipv4;
using l4lb::MacAddress;

constexpr Ipv4 ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return (uint32_t(a) << 24) | (uint32_t(b) << 16) | (uint32_t(c) << 8) | d;
}
MacAddress mac(uint8_t last);

// The pool every test frame comes from (created on first use).
rte_mempool* pool();

struct Ends {
  MacAddress source_mac, destination_mac;
  Ipv4 source = 0, destination = 0;
  uint16_t source_port = 0, destination_port = 0;
  uint8_t ttl = 64;
};

// A zeroed frame of `length` bytes starting `headroom` bytes into its buffer.
rte_mbuf* frame(uint32_t length, uint16_t headroom = RTE_PKTMBUF_HEADROOM);
// Fills in the Ethernet and IPv4 headers (no options, checksum computed) of a frame whose
// layer-4 part is `l4_length` bytes; returns the IPv4 header.
rte_ipv4_hdr* ipv4(rte_mbuf* m, const Ends& e, uint8_t protocol, uint16_t l4_length);

rte_mbuf* tcp(const Ends& e, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t payload = 0);
rte_mbuf* udp(const Ends& e, uint16_t payload = 8, bool checksum = true);
rte_mbuf* icmp_echo(const Ends& e, uint16_t id, uint16_t seq);
// An ICMP error (`type`, `code`) from e.source to e.destination quoting `quoted` (whose
// first 28 bytes of IP + L4 are copied, as routers do at least).
rte_mbuf* icmp_error(const Ends& e, uint8_t type, uint8_t code, const rte_mbuf* quoted);
rte_mbuf* arp(uint16_t op, const MacAddress& source_mac, Ipv4 sender, const MacAddress& target_mac, Ipv4 target,
              bool broadcast);

// What a frame carries, decoded; valid false when it is not a well-formed IPv4 TCP/UDP/ICMP
// or ARP frame.
struct Seen {
  bool valid = false;
  uint16_t ether_type = 0;
  MacAddress source_mac, destination_mac;
  Ipv4 source = 0, destination = 0;
  uint16_t source_port = 0, destination_port = 0;   // ICMP: id in source_port
  uint8_t protocol = 0, ttl = 0, flags = 0, icmp_type = 0;
  uint32_t seq = 0, ack = 0;
  bool ip_checksum_ok = false, l4_checksum_ok = false;   // ICMP: over the whole message
  uint16_t arp_op = 0;
  Ipv4 arp_sender = 0, arp_target = 0;
  MacAddress arp_sender_mac;
  // ICMP errors: the quoted packet's addresses and ports, and whether its IP checksum holds.
  Ipv4 quoted_source = 0, quoted_destination = 0;
  uint16_t quoted_source_port = 0, quoted_destination_port = 0;
  bool quoted_ip_checksum_ok = false;
};
Seen see(const rte_mbuf* m);

bool same_mac(const MacAddress& a, const MacAddress& b);

}  // namespace packets
