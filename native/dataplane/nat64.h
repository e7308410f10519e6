// NAT64 for the flows of a service whose VIP is IPv6 and whose real servers are IPv4: the
// client's IPv6 packets leave as IPv4 from a local address, the servers' replies go back as
// IPv6 from the VIP. The header is rebuilt (RFC 7915's rules for the fields a TCP/UDP flow
// uses: traffic class and TOS carried over, hop limit and TTL decremented, DF set towards
// IPv4, flow label 0 towards IPv6); TCP/UDP checksums are updated from the pseudo-header's
// change, since the length and protocol words sum alike in both families. ICMP errors about a
// NAT64 session change family in icmp_translate.cc (RFC 7915 4.2, 5.2); icmp.h says when they
// are dropped as `translation`.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

#include "checksum.h"
#include "packet.h"

namespace l4lb {

// The traffic class of an IPv6 header or the TOS of an IPv4 one, which RFC 7915 carries over.
inline uint8_t traffic_class(const IpFrame& f) {
  return f.v6 ? uint8_t(rte_be_to_cpu_32(f.ip6()->vtc_flow) >> 20) : f.ip4()->type_of_service;
}

// The change of a TCP/UDP pseudo-header's sum when its addresses become `source` and
// `destination`, of either family. Cost: ~20 ALU operations.
ChecksumDelta pseudo_header_change(const Address& old_source, const Address& old_destination, const Address& source,
                                   const Address& destination);

// Rewrites `f` (a TCP/UDP packet) into the family of `source`/`destination` with those ends,
// moving the Ethernet header's place by the difference in IP header lengths (the Ethernet
// addresses are written when the frame is sent). Updates `f`. False, with the frame to be
// dropped, when the buffer has no headroom for the longer header, or an IPv4 UDP datagram
// without checksum spans segments (IPv6 requires one, computed over the whole datagram).
// Cost: a 40-byte header written, ~40 ALU operations; the payload is not touched unless that
// checksum must be computed.
bool translate_across(rte_mbuf* m, IpFrame& f, const Address& source, uint16_t source_port, const Address& destination,
                      uint16_t destination_port);

}  // namespace l4lb
