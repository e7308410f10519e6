// Frame crafting and decoding for the packet-path tests (checksums computed from scratch, so
// they check the data plane's incremental updates independently).
#include "packets.h"

#include <cstring>
#include <stdexcept>

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "big_endian.h"

namespace packets {

namespace {

constexpr uint32_t kEth = sizeof(rte_ether_hdr);

void ethernet(rte_mbuf* m, const MacAddress& source, const MacAddress& destination, uint16_t type) {
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  std::memcpy(&eth->src_addr, source.bytes, 6);
  std::memcpy(&eth->dst_addr, destination.bytes, 6);
  eth->ether_type = rte_cpu_to_be_16(type);
}


bool icmp_sum_ok(const void* message, uint32_t length) { return rte_raw_cksum(message, length) == 0xffff; }

// A header checksum holds when it equals the one computed with the field zeroed.
bool ip_sum_ok(const rte_ipv4_hdr* ip) {
  rte_ipv4_hdr copy = *ip;
  copy.hdr_checksum = 0;
  return rte_ipv4_cksum(&copy) == ip->hdr_checksum;
}

// TCP/UDP: pseudo-header plus segment sums to 0xffff (UDP without checksum passes).
bool l4_sum_ok(const rte_ipv4_hdr* ip, const uint8_t* l4, uint16_t length) {
  if (ip->next_proto_id == IPPROTO_UDP && reinterpret_cast<const rte_udp_hdr*>(l4)->dgram_cksum == 0) return true;
  uint32_t sum = rte_ipv4_phdr_cksum(ip, 0) + rte_raw_cksum(l4, length);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return sum == 0xffff;
}

}  // namespace

rte_mbuf* frame(uint32_t length, uint16_t headroom) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool());
  if (!m) throw std::runtime_error("test pool exhausted");
  m->data_off = headroom;
  if (!rte_pktmbuf_append(m, length)) throw std::runtime_error("frame too long");
  std::memset(rte_pktmbuf_mtod(m, void*), 0, length);
  return m;
}

rte_ipv4_hdr* ipv4(rte_mbuf* m, const Ends& e, uint8_t protocol, uint16_t l4_length) {
  ethernet(m, e.source_mac, e.destination_mac, RTE_ETHER_TYPE_IPV4);
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, kEth);
  ip->version_ihl = RTE_IPV4_VHL_DEF;
  ip->total_length = rte_cpu_to_be_16(sizeof(rte_ipv4_hdr) + l4_length);
  ip->packet_id = rte_cpu_to_be_16(0x1234);
  ip->time_to_live = e.ttl;
  ip->next_proto_id = protocol;
  ip->src_addr = rte_cpu_to_be_32(e.source);
  ip->dst_addr = rte_cpu_to_be_32(e.destination);
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  return ip;
}

MacAddress mac(uint8_t last) { return MacAddress{{0x02, 0, 0, 0, 0, last}}; }

bool same_mac(const MacAddress& a, const MacAddress& b) { return std::memcmp(a.bytes, b.bytes, 6) == 0; }

rte_mempool* pool() {
  static rte_mempool* p = rte_pktmbuf_pool_create("packet_tests", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (!p) throw std::runtime_error("cannot create the test pool");
  return p;
}

rte_mbuf* tcp(const Ends& e, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t payload) {
  uint16_t l4 = sizeof(rte_tcp_hdr) + payload;
  rte_mbuf* m = frame(kEth + sizeof(rte_ipv4_hdr) + l4);
  rte_ipv4_hdr* ip = ipv4(m, e, IPPROTO_TCP, l4);
  auto* t = reinterpret_cast<rte_tcp_hdr*>(ip + 1);
  t->src_port = rte_cpu_to_be_16(e.source_port);
  t->dst_port = rte_cpu_to_be_16(e.destination_port);
  t->sent_seq = rte_cpu_to_be_32(seq);
  t->recv_ack = rte_cpu_to_be_32(ack);
  t->data_off = 5 << 4;
  t->tcp_flags = flags;
  t->rx_win = rte_cpu_to_be_16(65535);
  for (uint16_t i = 0; i < payload; ++i) reinterpret_cast<uint8_t*>(t + 1)[i] = uint8_t('a' + i % 26);
  t->cksum = rte_ipv4_udptcp_cksum(ip, t);
  return m;
}

rte_mbuf* udp(const Ends& e, uint16_t payload, bool checksum) {
  uint16_t l4 = sizeof(rte_udp_hdr) + payload;
  rte_mbuf* m = frame(kEth + sizeof(rte_ipv4_hdr) + l4);
  rte_ipv4_hdr* ip = ipv4(m, e, IPPROTO_UDP, l4);
  auto* u = reinterpret_cast<rte_udp_hdr*>(ip + 1);
  u->src_port = rte_cpu_to_be_16(e.source_port);
  u->dst_port = rte_cpu_to_be_16(e.destination_port);
  u->dgram_len = rte_cpu_to_be_16(l4);
  for (uint16_t i = 0; i < payload; ++i) reinterpret_cast<uint8_t*>(u + 1)[i] = uint8_t(i * 7);
  if (checksum) u->dgram_cksum = rte_ipv4_udptcp_cksum(ip, u);
  return m;
}

rte_mbuf* icmp_echo(const Ends& e, uint16_t id, uint16_t seq) {
  uint16_t l4 = sizeof(rte_icmp_hdr) + 16;
  rte_mbuf* m = frame(kEth + sizeof(rte_ipv4_hdr) + l4);
  rte_ipv4_hdr* ip = ipv4(m, e, IPPROTO_ICMP, l4);
  auto* icmp = reinterpret_cast<rte_icmp_hdr*>(ip + 1);
  icmp->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
  icmp->icmp_ident = rte_cpu_to_be_16(id);
  icmp->icmp_seq_nb = rte_cpu_to_be_16(seq);
  for (int i = 0; i < 16; ++i) reinterpret_cast<uint8_t*>(icmp + 1)[i] = uint8_t(i);
  icmp->icmp_cksum = ~rte_raw_cksum(icmp, l4);
  return m;
}

rte_mbuf* icmp_error(const Ends& e, uint8_t type, uint8_t code, const rte_mbuf* quoted) {
  constexpr uint16_t kQuote = sizeof(rte_ipv4_hdr) + 8;
  uint16_t l4 = sizeof(rte_icmp_hdr) + kQuote;
  rte_mbuf* m = frame(kEth + sizeof(rte_ipv4_hdr) + l4);
  rte_ipv4_hdr* ip = ipv4(m, e, IPPROTO_ICMP, l4);
  auto* icmp = reinterpret_cast<rte_icmp_hdr*>(ip + 1);
  icmp->icmp_type = type;
  icmp->icmp_code = code;
  std::memcpy(icmp + 1, rte_pktmbuf_mtod_offset(quoted, const uint8_t*, kEth), kQuote);
  icmp->icmp_cksum = ~rte_raw_cksum(icmp, l4);
  return m;
}

rte_mbuf* arp(uint16_t op, const MacAddress& source_mac, Ipv4 sender, const MacAddress& target_mac, Ipv4 target,
              bool broadcast) {
  rte_mbuf* m = frame(kEth + sizeof(rte_arp_hdr));
  ethernet(m, source_mac, broadcast ? MacAddress{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}} : target_mac, RTE_ETHER_TYPE_ARP);
  auto* a = rte_pktmbuf_mtod_offset(m, rte_arp_hdr*, kEth);
  a->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
  a->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
  a->arp_hlen = 6;
  a->arp_plen = 4;
  a->arp_opcode = rte_cpu_to_be_16(op);
  std::memcpy(&a->arp_data.arp_sha, source_mac.bytes, 6);
  a->arp_data.arp_sip = rte_cpu_to_be_32(sender);
  if (op == RTE_ARP_OP_REPLY) std::memcpy(&a->arp_data.arp_tha, target_mac.bytes, 6);
  a->arp_data.arp_tip = rte_cpu_to_be_32(target);
  return m;
}

Seen see(const rte_mbuf* m) {
  Seen s;
  if (rte_pktmbuf_data_len(m) < kEth) return s;
  // Bytes, not rte_ether_hdr (2-byte aligned): a frame behind a PROXY v1 header of odd
  // length starts at an odd address.
  auto* eth = rte_pktmbuf_mtod(m, const uint8_t*);
  std::memcpy(s.destination_mac.bytes, eth, 6);
  std::memcpy(s.source_mac.bytes, eth + 6, 6);
  s.ether_type = uint16_t(eth[12] << 8 | eth[13]);
  if (s.ether_type == RTE_ETHER_TYPE_ARP) {
    if (rte_pktmbuf_data_len(m) < kEth + sizeof(rte_arp_hdr)) return s;
    auto* a = rte_pktmbuf_mtod_offset(m, const rte_arp_hdr*, kEth);
    s.arp_op = rte_be_to_cpu_16(a->arp_opcode);
    s.arp_sender = rte_be_to_cpu_32(a->arp_data.arp_sip);
    s.arp_target = rte_be_to_cpu_32(a->arp_data.arp_tip);
    std::memcpy(s.arp_sender_mac.bytes, &a->arp_data.arp_sha, 6);
    s.valid = true;
    return s;
  }
  if (s.ether_type != RTE_ETHER_TYPE_IPV4) return s;
  auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, kEth);
  uint16_t total = rte_be_to_cpu_16(ip->total_length);
  if (kEth + total > rte_pktmbuf_data_len(m)) return s;
  s.source = rte_be_to_cpu_32(ip->src_addr);
  s.destination = rte_be_to_cpu_32(ip->dst_addr);
  s.protocol = ip->next_proto_id;
  s.ttl = ip->time_to_live;
  s.ip_checksum_ok = ip_sum_ok(ip);
  const uint8_t* l4 = reinterpret_cast<const uint8_t*>(ip) + sizeof(rte_ipv4_hdr);
  uint16_t l4_length = total - sizeof(rte_ipv4_hdr);
  if (s.protocol == IPPROTO_TCP || s.protocol == IPPROTO_UDP) {
    s.source_port = l4lb::get16(l4);
    s.destination_port = l4lb::get16(l4 + 2);
    s.l4_checksum_ok = l4_sum_ok(ip, l4, l4_length);
    if (s.protocol == IPPROTO_TCP) {
      auto* t = reinterpret_cast<const rte_tcp_hdr*>(l4);
      s.flags = t->tcp_flags;
      s.seq = rte_be_to_cpu_32(t->sent_seq);
      s.ack = rte_be_to_cpu_32(t->recv_ack);
    }
  } else if (s.protocol == IPPROTO_ICMP) {
    auto* icmp = reinterpret_cast<const rte_icmp_hdr*>(l4);
    s.icmp_type = icmp->icmp_type;
    s.source_port = rte_be_to_cpu_16(icmp->icmp_ident);
    s.l4_checksum_ok = icmp_sum_ok(icmp, l4_length);
    if (l4_length >= sizeof(rte_icmp_hdr) + sizeof(rte_ipv4_hdr) + 4 && icmp->icmp_type != RTE_IP_ICMP_ECHO_REPLY) {
      auto* quoted = reinterpret_cast<const rte_ipv4_hdr*>(icmp + 1);
      s.quoted_source = rte_be_to_cpu_32(quoted->src_addr);
      s.quoted_destination = rte_be_to_cpu_32(quoted->dst_addr);
      auto* ports = reinterpret_cast<const uint8_t*>(quoted + 1);
      s.quoted_source_port = l4lb::get16(ports);
      s.quoted_destination_port = l4lb::get16(ports + 2);
      s.quoted_ip_checksum_ok = ip_sum_ok(quoted);
    }
  } else {
    return s;
  }
  s.valid = true;
  return s;
}

}  // namespace packets
