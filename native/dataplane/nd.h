// IPv6 neighbour discovery (RFC 4861) for a worker: what ARP is to IPv4 (l2.cc), for the
// neighbour table of neighbour.h. handle_icmpv6() passes solicitations and advertisements here;
// l2.cc asks for unresolved IPv6 next hops and announces owned IPv6 addresses through it.
#pragma once

#include <cstdint>

#include <netinet/icmp6.h>

#include <rte_mbuf.h>

#include "packet.h"
#include "worker.h"

namespace l4lb {

inline bool is_neighbour_discovery(uint8_t icmpv6_type) {
  return icmpv6_type == ND_NEIGHBOR_SOLICIT || icmpv6_type == ND_NEIGHBOR_ADVERT;
}

// A solicitation or advertisement received on `in_port` (from_wire false: a copy another
// worker learnt from, to learn from only). A solicitation for an owned address of the port
// is answered, except on a backup; both teach the table what they say about their sender or
// target. Invalid messages (RFC 4861 7.1.1, 7.1.2) are dropped as malformed.
void handle_neighbour_discovery(Worker& w, rte_mbuf* m, const IpFrame& f, uint16_t in_port, bool from_wire);

// Asks who has `target` (its solicited-node group), from the port's first owned IPv6 address;
// sends nothing when the port owns none (the entry then gives up as an unanswered ARP's does).
void send_neighbour_solicitation(Worker& w, const PortInfo& port, const Address& target);

// Tells all nodes that `address` is at the port's MAC (Override set), as gratuitous ARP does.
void send_unsolicited_advertisement(Worker& w, const PortInfo& port, const Address& address);

}  // namespace l4lb
