// Frame crafting and decoding for the packet-path tests (checksums computed from scratch, so
// they check the data plane's incremental updates independently).
#include "packets.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <netinet/icmp6.h>

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

// TCP/UDP (and ICMPv6): pseudo-header plus segment sums to 0xffff (IPv4 UDP without checksum
// passes). `pseudo` is the pseudo-header's sum.
bool l4_sum_ok(uint16_t pseudo, uint8_t protocol, bool v6, const uint8_t* l4, uint16_t length) {
  if (!v6 && protocol == IPPROTO_UDP && reinterpret_cast<const rte_udp_hdr*>(l4)->dgram_cksum == 0) return true;
  uint32_t sum = pseudo + rte_raw_cksum(l4, length);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return sum == 0xffff;
}

uint8_t icmp_protocol(bool v6) { return v6 ? uint8_t(IPPROTO_ICMPV6) : uint8_t(IPPROTO_ICMP); }

// The ICMP (no pseudo-header) or ICMPv6 checksum of the message at `icmp`, `length` bytes
// long, in frame `m` whose IP header is complete; the checksum field must be 0.
uint16_t icmp_checksum(const rte_mbuf* m, const void* icmp, uint16_t length) {
  const bool v6 = rte_pktmbuf_mtod(m, const uint8_t*)[12] == 0x86;
  return v6 ? l4_checksum(m, icmp) : uint16_t(~rte_raw_cksum(icmp, length));
}

// A solicitation or advertisement of `type` from e.source, hop limit 255 as RFC 4861 wants,
// with e.source_mac in a link-layer option of `option` type (0: none).
rte_mbuf* neighbour_message(const Ends& e, uint8_t type, uint8_t flags, Address target, uint8_t option) {
  const uint16_t l4 = 24 + (option ? 8 : 0);
  rte_mbuf* m = frame(kEth + sizeof(rte_ipv6_hdr) + l4);
  Ends on_link = e;
  on_link.ttl = 255;
  uint8_t* icmp = ip_headers(m, on_link, IPPROTO_ICMPV6, l4);
  icmp[0] = type;
  icmp[4] = flags;
  target.copy_to(icmp + 8);
  if (option) {
    icmp[24] = option;
    icmp[25] = 1;
    std::memcpy(icmp + 26, e.source_mac.bytes, 6);
  }
  reinterpret_cast<rte_icmp_hdr*>(icmp)->icmp_cksum = icmp_checksum(m, icmp, l4);
  return m;
}

// The ICMP or ICMPv6 fields of `s`: type and code, the second word, a quoted packet's ends
// (errors), a neighbour discovery message's target, flags and link-layer option.
void see_icmp(Seen& s, bool v6, uint16_t pseudo, const uint8_t* l4, uint16_t l4_length) {
  auto* icmp = reinterpret_cast<const rte_icmp_hdr*>(l4);
  s.icmp_type = icmp->icmp_type;
  s.icmp_code = icmp->icmp_code;
  s.icmp_word = l4lb::get32(l4 + 4);
  s.source_port = rte_be_to_cpu_16(icmp->icmp_ident);
  s.l4_checksum_ok = v6 ? l4_sum_ok(pseudo, IPPROTO_ICMPV6, true, l4, l4_length) : icmp_sum_ok(icmp, l4_length);
  if (v6 && (s.icmp_type == ND_NEIGHBOR_SOLICIT || s.icmp_type == ND_NEIGHBOR_ADVERT) && l4_length >= 24) {
    s.nd_target = Address::v6(l4 + 8);
    s.nd_flags = l4[4];
    if (l4_length >= 32) {
      s.nd_option_type = l4[24];
      std::memcpy(s.nd_option_mac.bytes, l4 + 26, 6);
    }
    return;
  }
  const uint16_t quoted_header = v6 ? sizeof(rte_ipv6_hdr) : sizeof(rte_ipv4_hdr);
  const bool error = v6 ? s.icmp_type < ICMP6_ECHO_REQUEST : s.icmp_type != RTE_IP_ICMP_ECHO_REPLY;
  if (!error || l4_length < sizeof(rte_icmp_hdr) + quoted_header + 4) return;
  const uint8_t* quoted = l4 + sizeof(rte_icmp_hdr);
  const uint8_t* ports = quoted + quoted_header;
  const uint16_t quoted_l4 = uint16_t(l4_length - sizeof(rte_icmp_hdr) - quoted_header);
  uint16_t whole;   // the quoted packet's TCP/UDP length
  uint8_t protocol;
  uint16_t quoted_pseudo;
  if (v6) {
    auto* ip = reinterpret_cast<const rte_ipv6_hdr*>(quoted);
    s.quoted_source = Address::v6(ip->src_addr);
    s.quoted_destination = Address::v6(ip->dst_addr);
    s.quoted_ip_checksum_ok = true;   // IPv6 has none
    whole = rte_be_to_cpu_16(ip->payload_len);
    protocol = ip->proto;
    quoted_pseudo = rte_ipv6_phdr_cksum(ip, 0);
  } else {
    auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(quoted);
    s.quoted_source = Address::v4(rte_be_to_cpu_32(ip->src_addr));
    s.quoted_destination = Address::v4(rte_be_to_cpu_32(ip->dst_addr));
    s.quoted_ip_checksum_ok = ip_sum_ok(ip);
    whole = uint16_t(rte_be_to_cpu_16(ip->total_length) - sizeof(rte_ipv4_hdr));
    protocol = ip->next_proto_id;
    quoted_pseudo = rte_ipv4_phdr_cksum(ip, 0);
  }
  s.quoted_source_port = l4lb::get16(ports);
  s.quoted_destination_port = l4lb::get16(ports + 2);
  if (protocol == IPPROTO_TCP && quoted_l4 >= 8) s.quoted_seq = l4lb::get32(ports + 4);
  s.quoted_l4_checksum_ok = whole <= quoted_l4 && l4_sum_ok(quoted_pseudo, protocol, v6, ports, whole);
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

uint8_t* ip_headers(rte_mbuf* m, const Ends& e, uint8_t protocol, uint16_t l4_length) {
  if (is_ipv4(e)) return reinterpret_cast<uint8_t*>(ipv4(m, e, protocol, l4_length) + 1);
  ethernet(m, e.source_mac, e.destination_mac, RTE_ETHER_TYPE_IPV6);
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv6_hdr*, kEth);
  ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
  ip->payload_len = rte_cpu_to_be_16(l4_length);
  ip->proto = protocol;
  ip->hop_limits = e.ttl;
  e.source.copy_to(reinterpret_cast<uint8_t*>(&ip->src_addr));
  e.destination.copy_to(reinterpret_cast<uint8_t*>(&ip->dst_addr));
  return reinterpret_cast<uint8_t*>(ip + 1);
}

bool is_ipv4(const Ends& e) { return e.source.is_v4() && e.destination.is_v4(); }

uint16_t ip_header_length(const Ends& e) { return is_ipv4(e) ? sizeof(rte_ipv4_hdr) : sizeof(rte_ipv6_hdr); }

uint16_t l4_checksum(const rte_mbuf* m, const void* l4) {
  const auto* eth = rte_pktmbuf_mtod(m, const uint8_t*);
  if (eth[12] == 0x86) return rte_ipv6_udptcp_cksum(rte_pktmbuf_mtod_offset(m, const rte_ipv6_hdr*, kEth), l4);
  return rte_ipv4_udptcp_cksum(rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, kEth), l4);
}

rte_ipv4_hdr* ipv4(rte_mbuf* m, const Ends& e, uint8_t protocol, uint16_t l4_length) {
  ethernet(m, e.source_mac, e.destination_mac, RTE_ETHER_TYPE_IPV4);
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, kEth);
  ip->version_ihl = RTE_IPV4_VHL_DEF;
  ip->total_length = rte_cpu_to_be_16(sizeof(rte_ipv4_hdr) + l4_length);
  ip->packet_id = rte_cpu_to_be_16(0x1234);
  ip->time_to_live = e.ttl;
  ip->next_proto_id = protocol;
  ip->src_addr = e.source.v4_be();
  ip->dst_addr = e.destination.v4_be();
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  return ip;
}

Address ip6(const char* text) {
  Address a;
  if (!l4lb::parse_address(text, &a) || a.is_v4()) throw std::invalid_argument(std::string("not IPv6: ") + text);
  return a;
}

Address solicited_node(const Address& a) {
  uint8_t group[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};
  uint8_t bytes[16];
  a.copy_to(bytes);
  std::memcpy(group + 13, bytes + 13, 3);
  return Address::v6(group);
}

MacAddress group_mac(const Address& group) {
  uint8_t bytes[16];
  group.copy_to(bytes);
  return MacAddress{{0x33, 0x33, bytes[12], bytes[13], bytes[14], bytes[15]}};
}

rte_mbuf* solicitation_at_group(const Address& target, const Address& source, const MacAddress& mac,
                                bool source_option) {
  const Address group = solicited_node(target);
  return neighbour_solicitation(Ends{mac, group_mac(group), source, group}, target, source_option);
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
  rte_mbuf* m = frame(kEth + ip_header_length(e) + l4);
  auto* t = reinterpret_cast<rte_tcp_hdr*>(ip_headers(m, e, IPPROTO_TCP, l4));
  t->src_port = rte_cpu_to_be_16(e.source_port);
  t->dst_port = rte_cpu_to_be_16(e.destination_port);
  t->sent_seq = rte_cpu_to_be_32(seq);
  t->recv_ack = rte_cpu_to_be_32(ack);
  t->data_off = 5 << 4;
  t->tcp_flags = flags;
  t->rx_win = rte_cpu_to_be_16(65535);
  for (uint16_t i = 0; i < payload; ++i) reinterpret_cast<uint8_t*>(t + 1)[i] = uint8_t('a' + i % 26);
  t->cksum = l4_checksum(m, t);
  return m;
}

rte_mbuf* udp(const Ends& e, uint16_t payload, bool checksum) {
  uint16_t l4 = sizeof(rte_udp_hdr) + payload;
  rte_mbuf* m = frame(kEth + ip_header_length(e) + l4);
  auto* u = reinterpret_cast<rte_udp_hdr*>(ip_headers(m, e, IPPROTO_UDP, l4));
  u->src_port = rte_cpu_to_be_16(e.source_port);
  u->dst_port = rte_cpu_to_be_16(e.destination_port);
  u->dgram_len = rte_cpu_to_be_16(l4);
  for (uint16_t i = 0; i < payload; ++i) reinterpret_cast<uint8_t*>(u + 1)[i] = uint8_t(i * 7);
  if (checksum) u->dgram_cksum = l4_checksum(m, u);
  return m;
}

rte_mbuf* icmp_echo(const Ends& e, uint16_t id, uint16_t seq) {
  const bool v6 = !is_ipv4(e);
  uint16_t l4 = sizeof(rte_icmp_hdr) + 16;
  rte_mbuf* m = frame(kEth + ip_header_length(e) + l4);
  auto* icmp = reinterpret_cast<rte_icmp_hdr*>(ip_headers(m, e, icmp_protocol(v6), l4));
  icmp->icmp_type = v6 ? ICMP6_ECHO_REQUEST : RTE_IP_ICMP_ECHO_REQUEST;
  icmp->icmp_ident = rte_cpu_to_be_16(id);
  icmp->icmp_seq_nb = rte_cpu_to_be_16(seq);
  for (int i = 0; i < 16; ++i) reinterpret_cast<uint8_t*>(icmp + 1)[i] = uint8_t(i);
  icmp->icmp_cksum = icmp_checksum(m, icmp, l4);
  return m;
}

rte_mbuf* icmp_error(const Ends& e, uint8_t type, uint8_t code, const rte_mbuf* quoted, uint32_t word, bool quote_all) {
  const bool v6 = !is_ipv4(e);
  const uint8_t* packet = rte_pktmbuf_mtod_offset(quoted, const uint8_t*, kEth);
  uint16_t quote = quote_all ? l4lb::get16(packet + 2) : sizeof(rte_ipv4_hdr) + 8;   // the total length
  if (v6) {
    uint16_t whole = uint16_t(sizeof(rte_ipv6_hdr) + l4lb::get16(packet + 4));   // header and payload length
    quote = std::min<uint16_t>(whole, 1280 - sizeof(rte_ipv6_hdr) - sizeof(rte_icmp_hdr));
  }
  uint16_t l4 = sizeof(rte_icmp_hdr) + quote;
  rte_mbuf* m = frame(kEth + ip_header_length(e) + l4);
  auto* icmp = reinterpret_cast<rte_icmp_hdr*>(ip_headers(m, e, icmp_protocol(v6), l4));
  icmp->icmp_type = type;
  icmp->icmp_code = code;
  l4lb::put32(reinterpret_cast<uint8_t*>(icmp) + 4, word);
  std::memcpy(icmp + 1, packet, quote);
  icmp->icmp_cksum = icmp_checksum(m, icmp, l4);
  return m;
}

rte_mbuf* neighbour_solicitation(const Ends& e, Address target, bool source_option) {
  return neighbour_message(e, ND_NEIGHBOR_SOLICIT, 0, target, source_option ? ND_OPT_SOURCE_LINKADDR : 0);
}

rte_mbuf* neighbour_advertisement(const Ends& e, Address target, uint8_t flags, bool target_option) {
  return neighbour_message(e, ND_NEIGHBOR_ADVERT, flags, target, target_option ? ND_OPT_TARGET_LINKADDR : 0);
}

rte_mbuf* arp(uint16_t op, const MacAddress& source_mac, Address sender, const MacAddress& target_mac, Address target,
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
  a->arp_data.arp_sip = sender.v4_be();
  if (op == RTE_ARP_OP_REPLY) std::memcpy(&a->arp_data.arp_tha, target_mac.bytes, 6);
  a->arp_data.arp_tip = target.v4_be();
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
    s.arp_sender = Address::v4(rte_be_to_cpu_32(a->arp_data.arp_sip));
    s.arp_target = Address::v4(rte_be_to_cpu_32(a->arp_data.arp_tip));
    std::memcpy(s.arp_sender_mac.bytes, &a->arp_data.arp_sha, 6);
    s.valid = true;
    return s;
  }
  const uint8_t* l4;
  uint16_t l4_length, pseudo;
  bool v6 = s.ether_type == RTE_ETHER_TYPE_IPV6;
  if (v6) {
    auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv6_hdr*, kEth);
    l4_length = rte_be_to_cpu_16(ip->payload_len);
    if (kEth + sizeof(rte_ipv6_hdr) + l4_length > rte_pktmbuf_data_len(m)) return s;
    s.source = Address::v6(reinterpret_cast<const uint8_t*>(&ip->src_addr));
    s.destination = Address::v6(reinterpret_cast<const uint8_t*>(&ip->dst_addr));
    s.protocol = ip->proto;
    s.ttl = ip->hop_limits;
    s.ip_checksum_ok = true;   // IPv6 has none
    pseudo = rte_ipv6_phdr_cksum(ip, 0);
    l4 = reinterpret_cast<const uint8_t*>(ip + 1);
  } else if (s.ether_type == RTE_ETHER_TYPE_IPV4) {
    auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, kEth);
    uint16_t total = rte_be_to_cpu_16(ip->total_length);
    if (kEth + total > rte_pktmbuf_data_len(m)) return s;
    s.source = Address::v4(rte_be_to_cpu_32(ip->src_addr));
    s.destination = Address::v4(rte_be_to_cpu_32(ip->dst_addr));
    s.protocol = ip->next_proto_id;
    s.ttl = ip->time_to_live;
    s.ip_checksum_ok = ip_sum_ok(ip);
    pseudo = rte_ipv4_phdr_cksum(ip, 0);
    l4 = reinterpret_cast<const uint8_t*>(ip) + sizeof(rte_ipv4_hdr);
    l4_length = uint16_t(total - sizeof(rte_ipv4_hdr));
  } else {
    return s;
  }
  if (s.protocol == IPPROTO_TCP || s.protocol == IPPROTO_UDP) {
    s.source_port = l4lb::get16(l4);
    s.destination_port = l4lb::get16(l4 + 2);
    s.l4_checksum_ok = l4_sum_ok(pseudo, s.protocol, v6, l4, l4_length);
    if (s.protocol == IPPROTO_TCP) {
      auto* t = reinterpret_cast<const rte_tcp_hdr*>(l4);
      s.flags = t->tcp_flags;
      s.seq = rte_be_to_cpu_32(t->sent_seq);
      s.ack = rte_be_to_cpu_32(t->recv_ack);
    }
  } else if (s.protocol == icmp_protocol(v6)) {
    see_icmp(s, v6, pseudo, l4, l4_length);
  } else {
    return s;
  }
  s.valid = true;
  return s;
}

}  // namespace packets
