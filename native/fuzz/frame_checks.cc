// Input frames and the checks on sent frames of frame_checks.h.
#include "frame_checks.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <netinet/icmp6.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "packets.h"

namespace fuzz {

using l4lb::Address;

namespace {

constexpr uint32_t kEth = sizeof(rte_ether_hdr), kIp = sizeof(rte_ipv4_hdr), kIp6 = sizeof(rte_ipv6_hdr),
                   kIcmp = sizeof(rte_icmp_hdr);
constexpr uint16_t kDataRoom = 2048;   // what a NIC's buffer holds after its headroom

// An external buffer and what leaves with it is held to. shared_info first, so the mbuf's
// shinfo pointer leads back here.
struct Buffer {
  rte_mbuf_ext_shared_info shared;
  Expect expect;
};

void free_buffer(void* address, void* opaque) {
  std::free(address);
  delete static_cast<Buffer*>(opaque);
}

rte_mbuf* segment(const uint8_t* data, uint16_t length, uint16_t headroom, uint16_t tailroom, Expect expect) {
  rte_mbuf* m = rte_pktmbuf_alloc(packets::pool());
  if (!m) std::abort();   // only a leak empties the pool
  uint16_t size = uint16_t(headroom + length + tailroom);
  auto* bytes = static_cast<uint8_t*>(std::malloc(size ? size : 1));
  auto* buffer = new Buffer{};
  buffer->expect = expect;
  buffer->shared.free_cb = free_buffer;
  buffer->shared.fcb_opaque = buffer;
  rte_mbuf_ext_refcnt_set(&buffer->shared, 1);
  rte_pktmbuf_attach_extbuf(m, bytes, RTE_BAD_IOVA, size, &buffer->shared);
  m->data_off = headroom;
  if (length) std::memcpy(bytes + headroom, data, length);
  m->data_len = length;
  m->pkt_len = length;
  return m;
}

[[noreturn]] void fail(const char* what, uint16_t port) {
  std::fprintf(stderr, "fuzz: a frame sent on port %u breaks an invariant: %s\n", port, what);
  std::abort();
}

uint16_t be16(const uint8_t* at) { return uint16_t((at[0] << 8) | at[1]); }

uint16_t fold(uint32_t sum) {
  sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t((sum & 0xffff) + (sum >> 16));
}

// An IPv4 header's sum holds when it comes to 0xffff, as an L4 part's does (l4_sum).
bool sum_ok(const void* data, uint32_t length) { return rte_raw_cksum(data, length) == 0xffff; }

void set_ip_checksum(uint8_t* ip, uint32_t header_length) {
  std::memset(ip + 10, 0, 2);
  uint16_t check = uint16_t(~rte_raw_cksum(ip, header_length));
  std::memcpy(ip + 10, &check, 2);
}

// A whole IP packet of a frame: its header, and the `l4_length` bytes behind it.
struct Packet {
  uint8_t* ip;
  uint8_t* l4;
  uint32_t l4_length;
  uint8_t protocol;   // IPv6: the next header, so one with extension headers is none of ours
  bool v6;
};

// The sum over what the L4 checksum covers: the L4 bytes and, but for ICMP over IPv4, the
// pseudo-header.
uint16_t l4_sum(const Packet& p) {
  uint32_t sum = rte_raw_cksum(p.l4, p.l4_length);
  if (p.v6) sum += rte_ipv6_phdr_cksum(reinterpret_cast<const rte_ipv6_hdr*>(p.ip), 0);
  else if (p.protocol != IPPROTO_ICMP) sum += rte_ipv4_phdr_cksum(reinterpret_cast<const rte_ipv4_hdr*>(p.ip), 0);
  return fold(sum);
}

// Where the L4 checksum lies; 0 when the packet has none we know or its header is cut short.
uint32_t checksum_offset(const Packet& p) {
  switch (p.protocol) {
    case IPPROTO_TCP: return p.l4_length >= sizeof(rte_tcp_hdr) ? 16 : 0;
    case IPPROTO_UDP: return p.l4_length >= sizeof(rte_udp_hdr) ? 6 : 0;
    case IPPROTO_ICMP: return !p.v6 && p.l4_length >= kIcmp ? 2 : 0;
    case IPPROTO_ICMPV6: return p.v6 && p.l4_length >= kIcmp ? 2 : 0;
    default: return 0;
  }
}

// The IPv4 header an ICMP error of `length` bytes at `icmp` quotes, or null; its length in *header.
uint8_t* quoted_ip(uint8_t* icmp, uint32_t length, uint32_t* header) {
  if (length < kIcmp + kIp || (icmp[0] != 3 && icmp[0] != 11)) return nullptr;
  uint8_t* quoted = icmp + kIcmp;
  *header = (quoted[0] & 0x0f) * 4u;
  return *header >= kIp && kIcmp + *header <= length ? quoted : nullptr;
}

// The IPv6 header an ICMPv6 error quotes (as much of it as holds both addresses), or null.
const uint8_t* quoted_ip6(const Packet& p) {
  return p.protocol == IPPROTO_ICMPV6 && p.l4_length >= kIcmp + kIp6 && p.l4[0] < ICMP6_ECHO_REQUEST ? p.l4 + kIcmp
                                                                                                    : nullptr;
}

// The whole IPv6 packet of a frame at least an IPv6 header long, if its payload length fits.
bool whole_ipv6(uint8_t* frame, uint32_t size, Packet* p) {
  uint8_t* ip = frame + kEth;
  uint32_t payload = be16(ip + 4);
  if ((ip[0] >> 4) != 6 || kEth + kIp6 + payload > size) return false;
  *p = Packet{ip, ip + kIp6, payload, ip[6], true};
  return true;
}

// Makes the IPv4 header checksum valid; true, with the packet, when the packet is whole.
bool fix_ipv4_header(uint8_t* frame, uint32_t size, Packet* p) {
  uint8_t* ip = frame + kEth;
  uint32_t header = (ip[0] & 0x0f) * 4u, total = be16(ip + 2);
  if ((ip[0] >> 4) != 4 || header < kIp || kEth + header > size) return false;
  set_ip_checksum(ip, header);
  *p = Packet{ip, ip + header, total - header, ip[9], false};
  return total >= header && kEth + total <= size && (be16(ip + 6) & 0x3fff) == 0;
}

void check_source(const Address& source, const std::vector<Address>& own, uint16_t port) {
  if (std::find(own.begin(), own.end(), source) == own.end()) fail("a source address the lab does not own", port);
}

void check_l4(const Packet& p, uint16_t port) {
  uint8_t* l4 = p.l4;
  if (p.protocol == IPPROTO_TCP) {
    if (p.l4_length < sizeof(rte_tcp_hdr) || (l4[12] >> 4) * 4u < sizeof(rte_tcp_hdr) || (l4[12] >> 4) * 4u > p.l4_length)
      fail("TCP header length", port);
    if (l4_sum(p) != 0xffff) fail("TCP checksum", port);
  } else if (p.protocol == IPPROTO_UDP) {
    if (p.l4_length < sizeof(rte_udp_hdr)) fail("UDP header length", port);
    if (p.v6 && be16(l4 + 6) == 0) fail("IPv6 UDP without a checksum", port);
    if (be16(l4 + 6) != 0 && l4_sum(p) != 0xffff) fail("UDP checksum", port);
  } else if (checksum_offset(p) != 0) {   // ICMP, ICMPv6
    if (l4_sum(p) != 0xffff) fail(p.v6 ? "ICMPv6 checksum" : "ICMP checksum", port);
    uint32_t quoted_header;
    if (const uint8_t* quoted = p.v6 ? nullptr : quoted_ip(l4, p.l4_length, &quoted_header))
      if (!sum_ok(quoted, quoted_header)) fail("the IP checksum an ICMP error quotes", port);
  }
}

void check_ipv4(uint8_t* frame, uint32_t size, uint16_t port, Expect expect, const std::vector<Address>& own) {
  if (size < kEth + kIp) fail("IPv4 frame shorter than its header", port);
  uint8_t* ip = frame + kEth;
  uint32_t header = (ip[0] & 0x0f) * 4u, total = be16(ip + 2);
  if ((ip[0] >> 4) != 4 || header < kIp || total < header || kEth + total > size)
    fail("IPv4 header or total length inconsistent", port);
  if (ip[8] == 0) fail("TTL 0", port);
  check_source(Address::v4(uint32_t(ip[12] << 24 | ip[13] << 16 | ip[14] << 8 | ip[15])), own, port);
  if (expect != Expect::checksums) return;
  if (!sum_ok(ip, header)) fail("IPv4 header checksum", port);
  if (be16(ip + 6) & 0x3fff) return;
  check_l4(Packet{ip, ip + header, total - header, ip[9], false}, port);
}

void check_ipv6(uint8_t* frame, uint32_t size, uint16_t port, Expect expect, const std::vector<Address>& own) {
  if (size < kEth + kIp6) fail("IPv6 frame shorter than its header", port);
  Packet p;
  if (!whole_ipv6(frame, size, &p)) fail("IPv6 version or payload length inconsistent", port);
  Address source = Address::v6(p.ip + 8), destination = Address::v6(p.ip + 24);
  if (source.is_v4() || destination.is_v4()) fail("an IPv4-mapped address in an IPv6 header", port);
  if (const uint8_t* quoted = quoted_ip6(p))
    if (Address::v6(quoted + 8).is_v4() || Address::v6(quoted + 24).is_v4())
      fail("an IPv4-mapped address in the IPv6 header an ICMPv6 error quotes", port);
  check_source(source, own, port);
  // Only neighbour discovery is sent with 255 (RFC 4861), which a forwarded packet never has.
  bool neighbour_discovery = p.protocol == IPPROTO_ICMPV6 && p.l4_length >= 1 && p.l4[0] >= ND_ROUTER_SOLICIT &&
                             p.l4[0] <= ND_REDIRECT;
  uint8_t hop_limit = p.ip[7];
  if (hop_limit == 0 || (hop_limit == 255 && !neighbour_discovery)) fail("hop limit 0, or 255 off neighbour discovery", port);
  if (expect == Expect::checksums) check_l4(p, port);
}

// What `m` is held to: its input's expectation, or all of it for a frame the data plane made.
Expect expectation(const rte_mbuf* m) {
  return RTE_MBUF_HAS_EXTBUF(m) ? reinterpret_cast<const Buffer*>(m->shinfo)->expect : Expect::checksums;
}

}  // namespace

rte_mbuf* make_frame(const std::vector<uint8_t>& frame, const Layout& layout, Expect expect) {
  uint16_t length = uint16_t(frame.size());
  uint16_t first = layout.split && layout.split < length ? layout.split : length;
  auto tailroom = [&](uint16_t n) { return uint16_t(layout.tailroom && n < kDataRoom ? kDataRoom - n : 0); };
  rte_mbuf* m = segment(frame.data(), first, layout.headroom, tailroom(first), expect);
  if (first < length) rte_pktmbuf_chain(m, segment(frame.data() + first, length - first, 0, tailroom(length - first), expect));
  return m;
}

void fix_checksums(std::vector<uint8_t>& frame) {
  uint32_t size = uint32_t(frame.size());
  if (size < kEth + kIp) return;
  Packet p;
  uint16_t type = be16(&frame[12]);
  if (type == RTE_ETHER_TYPE_IPV4) {
    if (!fix_ipv4_header(frame.data(), size, &p)) return;
  } else if (type != RTE_ETHER_TYPE_IPV6 || size < kEth + kIp6 || !whole_ipv6(frame.data(), size, &p)) {
    return;
  }
  uint32_t at = checksum_offset(p);
  if (!at || (!p.v6 && p.protocol == IPPROTO_UDP && be16(p.l4 + 6) == 0)) return;   // IPv4 UDP may go without
  uint32_t quoted_header;
  if (uint8_t* quoted = p.v6 || p.protocol != IPPROTO_ICMP ? nullptr : quoted_ip(p.l4, p.l4_length, &quoted_header))
    set_ip_checksum(quoted, quoted_header);
  std::memset(p.l4 + at, 0, 2);
  uint16_t check = uint16_t(~l4_sum(p));
  if (check == 0 && p.protocol == IPPROTO_UDP) check = 0xffff;   // 0 says "none"
  std::memcpy(p.l4 + at, &check, 2);
}

void check_sent(const rte_mbuf* m, uint16_t port, bool kernel_side, const std::vector<Address>& own) {
  uint32_t bytes = 0;
  uint16_t segments = 0;
  for (const rte_mbuf* s = m; s; s = s->next) {
    ++segments;
    bytes += s->data_len;
    if (uint32_t(s->data_off) + s->data_len > s->buf_len) fail("a segment overruns its buffer", port);
  }
  if (segments != m->nb_segs || bytes != m->pkt_len) fail("segment count or packet length disagree", port);
  Expect expect = expectation(m);
  if (kernel_side || m->pkt_len < kEth || expect == Expect::nothing) return;
  std::vector<uint8_t> copy(m->pkt_len);
  auto* frame = static_cast<const uint8_t*>(rte_pktmbuf_read(m, 0, m->pkt_len, copy.data()));
  if (frame != copy.data()) std::memcpy(copy.data(), frame, m->pkt_len);   // a Packet's bytes are writable
  uint16_t type = be16(&copy[12]);
  if (type == RTE_ETHER_TYPE_IPV4) check_ipv4(copy.data(), m->pkt_len, port, expect, own);
  else if (type == RTE_ETHER_TYPE_IPV6) check_ipv6(copy.data(), m->pkt_len, port, expect, own);
}

}  // namespace fuzz
