// PROXY protocol headers and how a segment carries one; the formats are in proxy_protocol.h.
#include "proxy_protocol.h"

#include <arpa/inet.h>

#include <cstring>

#include "l4_grow.h"

namespace l4lb {

namespace {

constexpr uint8_t kV2Signature[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};
constexpr uint8_t kV2Proxy = 0x21, kV2Inet = 0x10, kV2Inet6 = 0x20, kV2Stream = 0x01, kV2Datagram = 0x02;
constexpr uint16_t kV2Inet4Addresses = 12;   // two IPv4 addresses and two ports
constexpr uint16_t kV2Inet6Addresses = 36;   // two IPv6 addresses and two ports

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

uint8_t* put_address(uint8_t* at, const Address& address) {
  if (!address.is_v4()) {   // RFC 5952 text, as the header's readers print it
    uint8_t bytes[16];
    char text[INET6_ADDRSTRLEN];
    address.copy_to(bytes);
    return put_text(at, inet_ntop(AF_INET6, bytes, text, sizeof text));
  }
  for (int shift = 24; shift >= 0; shift -= 8) {
    at = put_decimal(at, (address.v4() >> shift) & 0xff);
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
    uint8_t* at = put_text(out, k.source.is_v4() ? "PROXY TCP4 " : "PROXY TCP6 ");
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
  out[13] = uint8_t((k.source.is_v4() ? kV2Inet : kV2Inet6) | (k.protocol == IPPROTO_UDP ? kV2Datagram : kV2Stream));
  uint8_t* at = out + 16;
  if (k.source.is_v4()) {
    put_be(at, k.source.v4(), 4);
    put_be(at + 4, k.destination.v4(), 4);
    at += 8;
  } else {
    k.source.copy_to(at);
    k.destination.copy_to(at + 16);
    at += 32;
  }
  put_be(at, k.source_port, 2);
  put_be(at + 2, k.destination_port, 2);
  uint16_t addresses = k.source.is_v4() ? kV2Inet4Addresses : kV2Inet6Addresses;
  put_be(out + 14, addresses, 2);
  return uint16_t(16 + addresses);
}

bool prepend_to_payload(rte_mbuf* m, IpFrame& f, const uint8_t* header, uint16_t length, uint16_t mtu) {
  uint16_t l4_header = f.protocol == IPPROTO_TCP ? uint16_t((f.tcp()->data_off >> 4) * 4u) : uint16_t(sizeof(rte_udp_hdr));
  uint8_t head[60 + kProxyHeaderMax];
  if (length > kProxyHeaderMax || l4_header > 60) return false;
  std::memcpy(head, f.l4, l4_header);
  std::memcpy(head + l4_header, header, length);
  return replace_l4_head(m, f, l4_header, head, uint16_t(l4_header + length), mtu);
}

rte_mbuf* header_segment(rte_mempool* pool, const rte_mbuf* m, const IpFrame& f, const uint8_t* header,
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
  IpFrame g = f;
  g.ip = out + (f.ip - base);
  g.l4 = out + l4_offset;
  set_l4_length(g, uint16_t(tcp_length + length));
  rte_tcp_hdr* tcp = g.tcp();
  tcp->tcp_flags = RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG;
  tcp->tcp_urp = 0;
  tcp->cksum = 0;
  tcp->cksum = full_l4_checksum(g);
  return segment;
}

}  // namespace l4lb
