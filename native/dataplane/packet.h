// Header access for frames that start at the Ethernet header. The headers a worker reads or
// rewrites (Ethernet, IPv4 with options or IPv6, TCP/UDP/ICMP header) must lie in the first segment:
// true for every frame of at most one MTU that af_packet, tap, ring or a NIC delivers. Payload
// may continue in further segments; nothing here reads it.
#pragma once

#include <cstdint>
#include <cstring>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "counters.h"
#include "sessions.h"

namespace l4lb {

constexpr uint32_t kEtherLength = sizeof(rte_ether_hdr);

template <class T>
inline T* header_at(rte_mbuf* m, uint32_t offset) {
  return rte_pktmbuf_mtod_offset(m, T*, offset);
}

// An IP frame of either family that passed parse_ipv4() or parse_ipv6(): the one view of a
// packet that the flow, NAT and client-address code take, so there is one fast path.
struct IpFrame {
  uint8_t* ip = nullptr;        // the IPv4 or IPv6 header
  uint8_t* l4 = nullptr;        // after the IPv4 header and its options, or the IPv6 header
  uint16_t l4_length = 0;       // IPv4 total length minus the header; IPv6 payload length
  uint8_t protocol = 0;         // TCP, UDP, ICMP or ICMPv6
  bool v6 = false;

  rte_ipv4_hdr* ip4() const { return reinterpret_cast<rte_ipv4_hdr*>(ip); }
  rte_ipv6_hdr* ip6() const { return reinterpret_cast<rte_ipv6_hdr*>(ip); }
  uint16_t ip_header_length() const { return uint16_t(l4 - ip); }
  rte_tcp_hdr* tcp() const { return reinterpret_cast<rte_tcp_hdr*>(l4); }
  rte_udp_hdr* udp() const { return reinterpret_cast<rte_udp_hdr*>(l4); }
  rte_icmp_hdr* icmp() const { return reinterpret_cast<rte_icmp_hdr*>(l4); }   // ICMPv6 has the same first 8 bytes
  uint8_t hop_limit() const { return v6 ? ip6()->hop_limits : ip4()->time_to_live; }
  Address source() const {
    return v6 ? Address::v6(reinterpret_cast<const uint8_t*>(&ip6()->src_addr)) : Address::v4(rte_be_to_cpu_32(ip4()->src_addr));
  }
  Address destination() const {
    return v6 ? Address::v6(reinterpret_cast<const uint8_t*>(&ip6()->dst_addr)) : Address::v4(rte_be_to_cpu_32(ip4()->dst_addr));
  }
  // TCP/UDP only: the flow as it appears on the wire.
  FlowKey key() const {
    const auto* ports = reinterpret_cast<const rte_be16_t*>(l4);  // same place in TCP and UDP
    return FlowKey{source(), destination(), rte_be_to_cpu_16(ports[0]), rte_be_to_cpu_16(ports[1]), protocol};
  }
  // TCP only: bytes of sequence space the segment takes (payload, SYN and FIN count one each).
  uint32_t tcp_sequence_length() const {
    const rte_tcp_hdr* t = tcp();
    uint32_t payload = l4_length - ((t->data_off >> 4) * 4u);
    return payload + ((t->tcp_flags & RTE_TCP_SYN_FLAG) ? 1 : 0) + ((t->tcp_flags & RTE_TCP_FIN_FLAG) ? 1 : 0);
  }
};

// The IP packet's length: the IPv4 total length, or the IPv6 header and its payload.
inline uint16_t ip_packet_length(const IpFrame& f) {
  return f.v6 ? uint16_t(sizeof(rte_ipv6_hdr) + rte_be_to_cpu_16(f.ip6()->payload_len))
              : rte_be_to_cpu_16(f.ip4()->total_length);
}

// Sets the IP header's length for an L4 part of `l4_length` bytes (the IPv4 header checksum
// updated incrementally; IPv6 has none).
inline void set_l4_length(IpFrame& f, uint16_t l4_length) {
  f.l4_length = l4_length;
  if (f.v6) {
    f.ip6()->payload_len = rte_cpu_to_be_16(l4_length);
    return;
  }
  rte_be16_t total = rte_cpu_to_be_16(uint16_t(f.ip_header_length() + l4_length));
  uint32_t sum = uint16_t(~f.ip4()->hdr_checksum) + uint16_t(~f.ip4()->total_length) + total;
  sum = (sum & 0xffff) + (sum >> 16);
  f.ip4()->hdr_checksum = uint16_t(~((sum & 0xffff) + (sum >> 16)));
  f.ip4()->total_length = total;
}

// The sum of the TCP/UDP pseudo-header (RFC 768, RFC 8200 8.1) with the current length.
inline uint16_t pseudo_header_sum(const IpFrame& f) {
  return f.v6 ? rte_ipv6_phdr_cksum(f.ip6(), 0) : rte_ipv4_phdr_cksum(f.ip4(), 0);
}

// The TCP/UDP checksum computed over the whole segment (frames the data plane makes itself).
inline uint16_t full_l4_checksum(const IpFrame& f) {
  return f.v6 ? rte_ipv6_udptcp_cksum(f.ip6(), f.l4) : rte_ipv4_udptcp_cksum(f.ip4(), f.l4);
}

// The TCP flag combinations connections use, PSH, ECE and CWR aside (any goes with them):
// SYN, SYN+ACK, RST, RST+ACK, ACK, FIN+ACK, and SYN, ACK, FIN+ACK with URG. Anything else
// (SYN+FIN, SYN+RST, no flags, FIN alone, all of them) is a scan or an attack: a bit per
// combination of FIN, SYN, RST, ACK and URG (flags & 0x37).
constexpr uint64_t kTcpFlagsInUse = (1ull << 0x02) | (1ull << 0x12) | (1ull << 0x04) | (1ull << 0x14) |
                                    (1ull << 0x10) | (1ull << 0x11) | (1ull << 0x22) | (1ull << 0x30) |
                                    (1ull << 0x31);

// Validates the layer-4 header of a frame whose IP header was checked: lengths that fit, TCP
// flags in use, a UDP length within the IP payload. `first` is the first segment's length.
inline bool parse_l4(IpFrame* f, uint32_t first) {
  uint32_t l4_offset = kEtherLength + f->ip_header_length();
  uint32_t need = 0;
  switch (f->protocol) {
    case IPPROTO_TCP:   // its data offset is read, so its fixed part must be in this segment
      if (f->l4_length < sizeof(rte_tcp_hdr) || l4_offset + sizeof(rte_tcp_hdr) > first) return false;
      need = (f->tcp()->data_off >> 4) * 4u;
      if (need < sizeof(rte_tcp_hdr) || need > f->l4_length || !(kTcpFlagsInUse >> (f->tcp()->tcp_flags & 0x37) & 1))
        return false;
      break;
    case IPPROTO_UDP: need = sizeof(rte_udp_hdr); break;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6: need = sizeof(rte_icmp_hdr); break;
    default: return true;   // not ours to read further; the caller drops it
  }
  if (f->l4_length < need || l4_offset + need > first) return false;
  if (f->protocol != IPPROTO_UDP) return true;
  uint16_t udp_length = rte_be_to_cpu_16(f->udp()->dgram_len);
  return udp_length >= sizeof(rte_udp_hdr) && udp_length <= f->l4_length;
}

// Validates the IPv4 header and the TCP/UDP/ICMP header behind it. The IP header checksum is
// not verified: it costs a pass over the header per packet, every NIC and the kernel on the
// path have checked it already, and the incremental updates keep a wrong one wrong.
// Cost: a dozen loads and compares on one cache line.
inline bool parse_ipv4(rte_mbuf* m, IpFrame* f, Drop* why) {
  *why = Drop::malformed;
  uint32_t first = rte_pktmbuf_data_len(m);
  if (first < kEtherLength + sizeof(rte_ipv4_hdr)) return false;
  rte_ipv4_hdr* ip = header_at<rte_ipv4_hdr>(m, kEtherLength);
  uint32_t header_length = (ip->version_ihl & 0x0f) * 4u;
  uint32_t total = rte_be_to_cpu_16(ip->total_length);
  if ((ip->version_ihl >> 4) != 4 || header_length < sizeof(rte_ipv4_hdr) || total < header_length ||
      kEtherLength + total > rte_pktmbuf_pkt_len(m) || kEtherLength + header_length > first)
    return false;
  if (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) {
    *why = Drop::fragment;
    return false;
  }
  f->ip = reinterpret_cast<uint8_t*>(ip);
  f->l4 = f->ip + header_length;
  f->l4_length = uint16_t(total - header_length);
  f->protocol = ip->next_proto_id;
  f->v6 = false;
  return parse_l4(f, first);
}

// Whether 16 address bytes are IPv4-mapped (::ffff:0:0/96). No IPv6 packet may carry one
// (RFC 4291 2.5.5.2), and Address keeps that space for IPv4: one arriving in an IPv6 header
// would pose as an IPv4 VIP, client or neighbour.
inline bool is_v4_mapped(const uint8_t* bytes) {
  uint64_t high;
  uint32_t marker;
  std::memcpy(&high, bytes, 8);
  std::memcpy(&marker, bytes + 8, 4);
  return high == 0 && marker == rte_cpu_to_be_32(0x0000ffffu);
}

// Validates the IPv6 header and the TCP/UDP/ICMPv6 header right behind it. Extension headers
// are not walked: a fragment header is dropped as `fragment` (as IPv4 fragments are), the
// others (hop-by-hop, routing, destination options, AH, ESP) as `extension_header`; none of
// them occurs on the connections a layer-4 balancer carries. An IPv4-mapped source or
// destination is malformed. Cost: as parse_ipv4(), and two more compares.
inline bool parse_ipv6(rte_mbuf* m, IpFrame* f, Drop* why) {
  *why = Drop::malformed;
  uint32_t first = rte_pktmbuf_data_len(m);
  if (first < kEtherLength + sizeof(rte_ipv6_hdr)) return false;
  rte_ipv6_hdr* ip = header_at<rte_ipv6_hdr>(m, kEtherLength);
  uint32_t payload = rte_be_to_cpu_16(ip->payload_len);
  if ((rte_be_to_cpu_32(ip->vtc_flow) >> 28) != 6 || kEtherLength + sizeof(rte_ipv6_hdr) + payload > rte_pktmbuf_pkt_len(m) ||
      is_v4_mapped(ip->src_addr) || is_v4_mapped(ip->dst_addr))
    return false;
  switch (ip->proto) {
    case IPPROTO_FRAGMENT: *why = Drop::fragment; return false;
    case IPPROTO_HOPOPTS:
    case IPPROTO_ROUTING:
    case IPPROTO_DSTOPTS:
    case IPPROTO_AH:
    case IPPROTO_ESP: *why = Drop::extension_header; return false;
    default: break;
  }
  f->ip = reinterpret_cast<uint8_t*>(ip);
  f->l4 = f->ip + sizeof(rte_ipv6_hdr);
  f->l4_length = uint16_t(payload);
  f->protocol = ip->proto;
  f->v6 = true;
  return parse_l4(f, first);
}

}  // namespace l4lb
