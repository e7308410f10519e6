// A fresh IP header for a packet the data plane writes or rebuilds itself (resets, neighbour
// discovery, NAT64): one function for both families, so each of those writes only its own
// fields.
#pragma once

#include <cstdint>

#include "packet.h"

namespace l4lb {

// Writes at `at` the header of the addresses' family for an L4 part of `l4_length` bytes and
// `protocol`: IPv4 (no options, DF set, checksum computed; `traffic_class` as TOS, `hop_limit`
// as TTL) or IPv6 (no extension headers, flow label 0). Returns the IpFrame over it.
inline IpFrame write_ip_header(uint8_t* at, const Address& source, const Address& destination, uint8_t protocol,
                               uint8_t hop_limit, uint8_t traffic_class, uint16_t l4_length) {
  IpFrame f;
  f.ip = at;
  f.protocol = protocol;
  f.l4_length = l4_length;
  f.v6 = !source.is_v4();
  if (f.v6) {
    rte_ipv6_hdr* ip = f.ip6();
    ip->vtc_flow = rte_cpu_to_be_32(6u << 28 | uint32_t(traffic_class) << 20);
    ip->payload_len = rte_cpu_to_be_16(l4_length);
    ip->proto = protocol;
    ip->hop_limits = hop_limit;
    source.copy_to(ip->src_addr);
    destination.copy_to(ip->dst_addr);
    f.l4 = at + sizeof(rte_ipv6_hdr);
    return f;
  }
  rte_ipv4_hdr* ip = f.ip4();
  *ip = rte_ipv4_hdr{};
  ip->version_ihl = RTE_IPV4_VHL_DEF;
  ip->type_of_service = traffic_class;
  ip->total_length = rte_cpu_to_be_16(uint16_t(sizeof(rte_ipv4_hdr) + l4_length));
  ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
  ip->time_to_live = hop_limit;
  ip->next_proto_id = protocol;
  ip->src_addr = source.v4_be();
  ip->dst_addr = destination.v4_be();
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  f.l4 = at + sizeof(rte_ipv4_hdr);
  return f;
}

}  // namespace l4lb
