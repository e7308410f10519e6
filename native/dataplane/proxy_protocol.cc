// PROXY protocol headers and how a segment carries one; the formats are in proxy_protocol.h.
#include "proxy_protocol.h"

#include <cstring>

#include "l4_grow.h"

namespace l4lb {

namespace {

constexpr uint8_t kV2Signature[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};
constexpr uint8_t kV2Proxy = 0x21, kV2InetStream = 0x11, kV2InetDatagram = 0x12;
constexpr uint16_t kV2Addresses = 12;   // two IPv4 addresses and two ports

uint8_t* put_text(uint8_t* at, const char* text) {
  while (*text) *at++ = uint8_t(*text++);
  return at;
}

uint8_t* put_decimal(uint8_t* at, uint32_t value) {
  char digits[10];
  int n = 0;
  do digits[n++] = char('0' + value % 10);
  while ((value /= 10) != 0);
  while (n) *at++ = uint8_t(digits[--n]);
  return at;
}

uint8_t* put_address(uint8_t* at, Ipv4 address) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    at = put_decimal(at, (address >> shift) & 0xff);
    if (shift) *at++ = '.';
  }
  return at;
}

void put_be(uint8_t* at, uint32_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i, value >>= 8) at[i] = uint8_t(value);
}

}  // namespace

uint16_t proxy_header(ClientAddress version, const FlowKey& client_to_vip, uint8_t (&out)[kProxyHeaderMax]) {
  const FlowKey& k = client_to_vip;
  if (version == ClientAddress::proxy_v1) {
    uint8_t* at = put_text(out, "PROXY TCP4 ");
    at = put_address(at, k.source);
    *at++ = ' ';
    at = put_address(at, k.destination);
    *at++ = ' ';
    at = put_decimal(at, k.source_port);
    *at++ = ' ';
    at = put_decimal(at, k.destination_port);
    at = put_text(at, "\r\n");
    return uint16_t(at - out);
  }
  if (version != ClientAddress::proxy_v2) return 0;
  std::memcpy(out, kV2Signature, sizeof kV2Signature);
  out[12] = kV2Proxy;
  out[13] = k.protocol == IPPROTO_UDP ? kV2InetDatagram : kV2InetStream;
  put_be(out + 14, kV2Addresses, 2);
  put_be(out + 16, k.source, 4);
  put_be(out + 20, k.destination, 4);
  put_be(out + 24, k.source_port, 2);
  put_be(out + 26, k.destination_port, 2);
  return 16 + kV2Addresses;
}

bool prepend_to_payload(rte_mbuf* m, Ipv4Frame& f, const uint8_t* header, uint16_t length, uint16_t mtu) {
  uint16_t l4_header = f.protocol == IPPROTO_TCP ? uint16_t((f.tcp()->data_off >> 4) * 4u) : uint16_t(sizeof(rte_udp_hdr));
  uint8_t head[60 + kProxyHeaderMax];
  if (length > kProxyHeaderMax || l4_header > 60) return false;
  std::memcpy(head, f.l4, l4_header);
  std::memcpy(head + l4_header, header, length);
  return replace_l4_head(m, f, l4_header, head, uint16_t(l4_header + length), mtu);
}

rte_mbuf* header_segment(rte_mempool* pool, const rte_mbuf* m, const Ipv4Frame& f, const uint8_t* header,
                         uint16_t length) {
  const uint8_t* base = rte_pktmbuf_mtod(m, const uint8_t*);
  uint16_t tcp_length = uint16_t((f.tcp()->data_off >> 4) * 4u);
  uint32_t l4_offset = uint32_t(f.l4 - base), headers = l4_offset + tcp_length;
  rte_mbuf* segment = pool ? rte_pktmbuf_alloc(pool) : nullptr;
  if (!segment) return nullptr;
  auto* out = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(segment, uint16_t(headers + length)));
  if (!out) {
    rte_pktmbuf_free(segment);
    return nullptr;
  }
  std::memcpy(out, base, headers);
  std::memcpy(out + headers, header, length);
  segment->port = m->port;
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(out + (reinterpret_cast<const uint8_t*>(f.ip) - base));
  auto* tcp = reinterpret_cast<rte_tcp_hdr*>(out + l4_offset);
  ip->total_length = rte_cpu_to_be_16(uint16_t(l4_offset - kEtherLength + tcp_length + length));
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  tcp->tcp_flags = RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG;
  tcp->tcp_urp = 0;
  tcp->cksum = 0;
  tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
  return segment;
}

}  // namespace l4lb
