// Header access for frames that start at the Ethernet header. The headers a worker reads or
// rewrites (Ethernet, IPv4 with options, TCP/UDP/ICMP header) must lie in the first segment:
// true for every frame of at most one MTU that af_packet, tap, ring or a NIC delivers. Payload
// may continue in further segments; nothing here reads it.
#pragma once

#include <cstdint>

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

// An IPv4 frame that passed parse_ipv4().
struct Ipv4Frame {
  rte_ipv4_hdr* ip = nullptr;
  uint8_t* l4 = nullptr;        // after the IP header and its options
  uint16_t l4_length = 0;       // IP total length minus the IP header
  uint8_t protocol = 0;

  rte_tcp_hdr* tcp() const { return reinterpret_cast<rte_tcp_hdr*>(l4); }
  rte_udp_hdr* udp() const { return reinterpret_cast<rte_udp_hdr*>(l4); }
  rte_icmp_hdr* icmp() const { return reinterpret_cast<rte_icmp_hdr*>(l4); }
  // TCP/UDP only: the flow as it appears on the wire, in host byte order.
  FlowKey key() const {
    const auto* ports = reinterpret_cast<const rte_be16_t*>(l4);  // same place in TCP and UDP
    return FlowKey{rte_be_to_cpu_32(ip->src_addr), rte_be_to_cpu_32(ip->dst_addr),
                   rte_be_to_cpu_16(ports[0]), rte_be_to_cpu_16(ports[1]), protocol};
  }
  // TCP only: bytes of sequence space the segment takes (payload, SYN and FIN count one each).
  uint32_t tcp_sequence_length() const {
    const rte_tcp_hdr* t = tcp();
    uint32_t payload = l4_length - ((t->data_off >> 4) * 4u);
    return payload + ((t->tcp_flags & RTE_TCP_SYN_FLAG) ? 1 : 0) + ((t->tcp_flags & RTE_TCP_FIN_FLAG) ? 1 : 0);
  }
};

// The TCP flag combinations connections use, PSH, ECE and CWR aside (any goes with them):
// SYN, SYN+ACK, RST, RST+ACK, ACK, FIN+ACK, and SYN, ACK, FIN+ACK with URG. Anything else
// (SYN+FIN, SYN+RST, no flags, FIN alone, all of them) is a scan or an attack: a bit per
// combination of FIN, SYN, RST, ACK and URG (flags & 0x37).
constexpr uint64_t kTcpFlagsInUse = (1ull << 0x02) | (1ull << 0x12) | (1ull << 0x04) | (1ull << 0x14) |
                                    (1ull << 0x10) | (1ull << 0x11) | (1ull << 0x22) | (1ull << 0x30) |
                                    (1ull << 0x31);

// Validates the IPv4 header and the TCP/UDP/ICMP header behind it: lengths that fit, TCP flags
// in use, a UDP length within the IP payload. The IP header checksum is not verified: it costs
// a pass over the header per packet, every NIC and the kernel on the path have checked it
// already, and the incremental updates keep a wrong one wrong.
// Cost: a dozen loads and compares on one cache line.
inline bool parse_ipv4(rte_mbuf* m, Ipv4Frame* f, Drop* why) {
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
  f->ip = ip;
  f->l4 = reinterpret_cast<uint8_t*>(ip) + header_length;
  f->l4_length = uint16_t(total - header_length);
  f->protocol = ip->next_proto_id;
  uint32_t need = 0;
  switch (f->protocol) {
    case IPPROTO_TCP:   // its data offset is read, so its fixed part must be in this segment
      if (f->l4_length < sizeof(rte_tcp_hdr) || kEtherLength + header_length + sizeof(rte_tcp_hdr) > first)
        return false;
      need = (f->tcp()->data_off >> 4) * 4u;
      if (need < sizeof(rte_tcp_hdr) || need > f->l4_length || !(kTcpFlagsInUse >> (f->tcp()->tcp_flags & 0x37) & 1))
        return false;
      break;
    case IPPROTO_UDP: need = sizeof(rte_udp_hdr); break;
    case IPPROTO_ICMP: need = sizeof(rte_icmp_hdr); break;
    default: return true;   // not ours to read further; the caller drops it
  }
  if (f->l4_length < need || kEtherLength + header_length + need > first) return false;
  if (f->protocol != IPPROTO_UDP) return true;
  uint16_t udp_length = rte_be_to_cpu_16(f->udp()->dgram_len);
  return udp_length >= sizeof(rte_udp_hdr) && udp_length <= f->l4_length;
}

}  // namespace l4lb
