// Segment crafting and reading for the client-address tests.
#include "segments.h"

#include <cstring>
#include <stdexcept>

#include "check.h"

namespace segments {

namespace {

constexpr uint32_t kEth = sizeof(rte_ether_hdr);

void put32(Bytes& b, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) b.push_back(uint8_t(v >> shift));
}

}  // namespace

rte_mbuf* tcp(const packets::Ends& e, uint8_t flags, uint32_t seq, uint32_t ack, const Bytes& options,
              const std::string& payload, uint16_t headroom) {
  uint16_t option_length = uint16_t((options.size() + 3) & ~size_t(3));
  if (option_length > 40) throw std::runtime_error("too many options");
  uint16_t header = uint16_t(sizeof(rte_tcp_hdr) + option_length);
  uint16_t l4 = uint16_t(header + payload.size());
  rte_mbuf* m = packets::frame(kEth + packets::ip_header_length(e) + l4, headroom);
  auto* t = reinterpret_cast<rte_tcp_hdr*>(packets::ip_headers(m, e, IPPROTO_TCP, l4));
  t->src_port = rte_cpu_to_be_16(e.source_port);
  t->dst_port = rte_cpu_to_be_16(e.destination_port);
  t->sent_seq = rte_cpu_to_be_32(seq);
  t->recv_ack = rte_cpu_to_be_32(ack);
  t->data_off = uint8_t((header / 4) << 4);
  t->tcp_flags = flags;
  t->rx_win = rte_cpu_to_be_16(65535);
  auto* bytes = reinterpret_cast<uint8_t*>(t);
  if (!options.empty()) std::memcpy(bytes + sizeof(rte_tcp_hdr), options.data(), options.size());
  if (!payload.empty()) std::memcpy(bytes + header, payload.data(), payload.size());
  t->cksum = packets::l4_checksum(m, t);
  return m;
}

rte_mbuf* udp(const packets::Ends& e, const std::string& payload) {
  uint16_t l4 = uint16_t(sizeof(rte_udp_hdr) + payload.size());
  rte_mbuf* m = packets::frame(kEth + packets::ip_header_length(e) + l4, RTE_PKTMBUF_HEADROOM);
  auto* u = reinterpret_cast<rte_udp_hdr*>(packets::ip_headers(m, e, IPPROTO_UDP, l4));
  u->src_port = rte_cpu_to_be_16(e.source_port);
  u->dst_port = rte_cpu_to_be_16(e.destination_port);
  u->dgram_len = rte_cpu_to_be_16(l4);
  std::memcpy(u + 1, payload.data(), payload.size());
  u->dgram_cksum = packets::l4_checksum(m, u);
  return m;
}

l4lb::IpFrame parse(rte_mbuf* m) {
  l4lb::IpFrame f;
  l4lb::Drop why;
  bool v6 = rte_pktmbuf_mtod(m, const uint8_t*)[12] == 0x86;
  CHECK(v6 ? l4lb::parse_ipv6(m, &f, &why) : l4lb::parse_ipv4(m, &f, &why));
  return f;
}

View view(const rte_mbuf* m) {
  View v;
  l4lb::IpFrame f;
  l4lb::Drop why;
  auto* frame = const_cast<rte_mbuf*>(m);
  bool v6 = rte_pktmbuf_mtod(m, const uint8_t*)[12] == 0x86;
  if (!(v6 ? l4lb::parse_ipv6(frame, &f, &why) : l4lb::parse_ipv4(frame, &f, &why))) return v;
  v.ip_total_length = l4lb::ip_packet_length(f);
  const uint8_t* l4 = f.l4;
  uint16_t l4_length = f.l4_length;
  uint16_t header = 0;
  if (f.protocol == IPPROTO_TCP) {
    header = uint16_t((reinterpret_cast<const rte_tcp_hdr*>(l4)->data_off >> 4) * 4u);
    v.options.assign(l4 + sizeof(rte_tcp_hdr), l4 + header);
  } else if (f.protocol == IPPROTO_UDP) {
    header = sizeof(rte_udp_hdr);
    v.udp_length = rte_be_to_cpu_16(reinterpret_cast<const rte_udp_hdr*>(l4)->dgram_len);
  } else {
    return v;
  }
  if (header > l4_length) return v;
  v.payload.assign(reinterpret_cast<const char*>(l4) + header, l4_length - header);
  v.valid = true;
  return v;
}

Bytes option(const Bytes& options, uint8_t kind) {
  for (size_t i = 0; i < options.size();) {
    if (options[i] == 0) break;
    if (options[i] == 1) {
      ++i;
      continue;
    }
    if (i + 1 >= options.size() || options[i + 1] < 2) break;
    if (options[i] == kind) return Bytes(options.begin() + long(i), options.begin() + long(i + options[i + 1]));
    i += options[i + 1];
  }
  return {};
}

Bytes mss(uint16_t value) { return {2, 4, uint8_t(value >> 8), uint8_t(value)}; }

Bytes timestamps(uint32_t value, uint32_t echo) {
  Bytes b{1, 1, 8, 10};
  put32(b, value);
  put32(b, echo);
  return b;
}

Bytes sack(const std::vector<std::pair<uint32_t, uint32_t>>& blocks) {
  Bytes b{1, 1, 5, uint8_t(2 + 8 * blocks.size())};
  for (auto [left, right] : blocks) {
    put32(b, left);
    put32(b, right);
  }
  return b;
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes all;
  for (const Bytes& p : parts) all.insert(all.end(), p.begin(), p.end());
  return all;
}

}  // namespace segments
