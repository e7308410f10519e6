// Frames for the packet-path tests: crafting (TCP, UDP, ICMP and ICMPv6 echo and errors, ARP,
// IPv6 neighbour discovery) into mbufs and reading back what a worker sent. Addresses and ports are in host byte order.
#pragma once

#include <cstdint>

#include <rte_ip.h>
#include <rte_mbuf.h>

#include "snapshot.h"

namespace packets {

using l4lb::Address;
using l4lb::MacAddress;

inline Address ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return Address::v4((uint32_t(a) << 24) | (uint32_t(b) << 16) | (uint32_t(c) << 8) | d);
}
// An IPv6 address from its text; throws on a typo.
Address ip6(const char* text);
MacAddress mac(uint8_t last);

// The pool every test frame comes from (created on first use).
rte_mempool* pool();

struct Ends {
  MacAddress source_mac, destination_mac;
  Address source, destination;
  uint16_t source_port = 0, destination_port = 0;
  uint8_t ttl = 64;
};

// A zeroed frame of `length` bytes starting `headroom` bytes into its buffer.
rte_mbuf* frame(uint32_t length, uint16_t headroom = RTE_PKTMBUF_HEADROOM);
// Fills in the Ethernet and IPv4 headers (no options, checksum computed) of a frame whose
// layer-4 part is `l4_length` bytes; returns the IPv4 header.
rte_ipv4_hdr* ipv4(rte_mbuf* m, const Ends& e, uint8_t protocol, uint16_t l4_length);
// The same for either family (IPv6: no extension headers); returns where the layer-4 part
// starts. IPv4 when both ends are (is_ipv4); an IPv4 end of an IPv6 frame goes on the wire
// IPv4-mapped, which the data plane must refuse.
bool is_ipv4(const Ends& e);
uint8_t* ip_headers(rte_mbuf* m, const Ends& e, uint8_t protocol, uint16_t l4_length);
uint16_t ip_header_length(const Ends& e);
// The TCP/UDP checksum of the segment at `l4` in frame `m` (IPv4 or IPv6), computed in full.
uint16_t l4_checksum(const rte_mbuf* m, const void* l4);

// tcp() and udp() make frames of the ends' family.
rte_mbuf* tcp(const Ends& e, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t payload = 0);
rte_mbuf* udp(const Ends& e, uint16_t payload = 8, bool checksum = true);
// An echo request of e.source's family (ICMP or ICMPv6).
rte_mbuf* icmp_echo(const Ends& e, uint16_t id, uint16_t seq);
// An ICMP error (`type`, `code`, `word` in its second 32 bits: an MTU, a pointer) from
// e.source to e.destination quoting `quoted`: for IPv4 its first 28 bytes of IP + L4, as
// routers do at least, or all of it when `quote_all`; for IPv6 (ICMPv6) all of it that fits
// in 1280 bytes (RFC 4443 2.4).
rte_mbuf* icmp_error(const Ends& e, uint8_t type, uint8_t code, const rte_mbuf* quoted, uint32_t word = 0,
                     bool quote_all = false);
// Neighbour discovery (RFC 4861) from e.source (:: for duplicate address detection) to
// e.destination, hop limit 255, with e.source_mac in a source (solicitation) or target
// (advertisement) link-layer option unless told otherwise. `flags`: the advertisement's
// byte 4 (0x80 router, 0x40 solicited, 0x20 override).
rte_mbuf* neighbour_solicitation(const Ends& e, Address target, bool source_option = true);
rte_mbuf* neighbour_advertisement(const Ends& e, Address target, uint8_t flags, bool target_option = true);
// ff02::1:ff and the last 24 bits of `a` (RFC 4291 2.7.1).
Address solicited_node(const Address& a);
// 33:33 and the group's last 32 bits (RFC 2464 7).
MacAddress group_mac(const Address& group);
// `source` (at `mac`) asking for `target` at its solicited-node group.
rte_mbuf* solicitation_at_group(const Address& target, const Address& source, const MacAddress& mac,
                                bool source_option = true);
rte_mbuf* arp(uint16_t op, const MacAddress& source_mac, Address sender, const MacAddress& target_mac, Address target,
              bool broadcast);

// What a frame carries, decoded; valid false when it is not a well-formed IPv4 or IPv6
// TCP/UDP/ICMP/ICMPv6, or ARP frame (IPv6: ip_checksum_ok is always true).
struct Seen {
  bool valid = false;
  uint16_t ether_type = 0;
  MacAddress source_mac, destination_mac;
  Address source, destination;
  uint16_t source_port = 0, destination_port = 0;   // ICMP: id in source_port
  uint8_t protocol = 0, ttl = 0, flags = 0, icmp_type = 0, icmp_code = 0;
  uint32_t icmp_word = 0;   // ICMP/ICMPv6: the second 32 bits (packet too big: the MTU)
  uint32_t seq = 0, ack = 0;
  bool ip_checksum_ok = false, l4_checksum_ok = false;   // ICMP: over the whole message
  uint16_t arp_op = 0;
  Address arp_sender, arp_target;
  MacAddress arp_sender_mac;
  // ICMP errors: the quoted packet's addresses and ports, and whether its IP checksum holds
  // (IPv6: always); its TCP seq, and whether its TCP/UDP checksum holds when quoted whole.
  Address quoted_source, quoted_destination;
  uint16_t quoted_source_port = 0, quoted_destination_port = 0;
  bool quoted_ip_checksum_ok = false, quoted_l4_checksum_ok = false;
  uint32_t quoted_seq = 0;
  // Neighbour solicitations and advertisements: target, flags byte, link-layer option.
  Address nd_target;
  uint8_t nd_flags = 0, nd_option_type = 0;
  MacAddress nd_option_mac;
};
Seen see(const rte_mbuf* m);

bool same_mac(const MacAddress& a, const MacAddress& b);

}  // namespace packets
