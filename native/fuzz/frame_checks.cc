// Input frames and the checks on sent frames of frame_checks.h.
#include "frame_checks.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "packets.h"

namespace fuzz {

namespace {

constexpr uint32_t kEth = sizeof(rte_ether_hdr), kIp = sizeof(rte_ipv4_hdr), kIcmp = sizeof(rte_icmp_hdr);
constexpr uint16_t kDataRoom = 2048;   // what a NIC's buffer holds after its headroom

// An external buffer and whether checksums must hold on what leaves with it. shared_info
// first, so the mbuf's shinfo pointer leads back here.
struct Buffer {
  rte_mbuf_ext_shared_info shared;
  bool checked;
};

void free_buffer(void* address, void* opaque) {
  std::free(address);
  delete static_cast<Buffer*>(opaque);
}

rte_mbuf* segment(const uint8_t* data, uint16_t length, uint16_t headroom, uint16_t tailroom, bool checked) {
  rte_mbuf* m = rte_pktmbuf_alloc(packets::pool());
  if (!m) std::abort();   // only a leak empties the pool
  uint16_t size = uint16_t(headroom + length + tailroom);
  auto* bytes = static_cast<uint8_t*>(std::malloc(size ? size : 1));
  auto* buffer = new Buffer{};
  buffer->checked = checked;
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

// Sums over an IPv4 header or ICMP message hold when they come to 0xffff.
bool sum_ok(const void* data, uint32_t length) { return rte_raw_cksum(data, length) == 0xffff; }

bool l4_sum_ok(const rte_ipv4_hdr* ip, const uint8_t* l4, uint32_t length) {
  uint32_t sum = uint32_t(rte_ipv4_phdr_cksum(ip, 0)) + rte_raw_cksum(l4, length);
  sum = (sum & 0xffff) + (sum >> 16);
  return ((sum & 0xffff) + (sum >> 16)) == 0xffff;
}

void set_ip_checksum(uint8_t* ip, uint32_t header_length) {
  std::memset(ip + 10, 0, 2);
  uint16_t check = uint16_t(~rte_raw_cksum(ip, header_length));
  std::memcpy(ip + 10, &check, 2);
}

// The IP header an ICMP error of `length` bytes at `icmp` quotes, or null; its length in *header.
uint8_t* quoted_ip(uint8_t* icmp, uint32_t length, uint32_t* header) {
  if (length < kIcmp + kIp || (icmp[0] != 3 && icmp[0] != 11)) return nullptr;
  uint8_t* quoted = icmp + kIcmp;
  *header = (quoted[0] & 0x0f) * 4u;
  return *header >= kIp && kIcmp + *header <= length ? quoted : nullptr;
}

}  // namespace

rte_mbuf* make_frame(const std::vector<uint8_t>& frame, const Layout& layout, bool checked) {
  uint16_t length = uint16_t(frame.size());
  uint16_t first = layout.split && layout.split < length ? layout.split : length;
  auto tailroom = [&](uint16_t n) { return uint16_t(layout.tailroom && n < kDataRoom ? kDataRoom - n : 0); };
  rte_mbuf* m = segment(frame.data(), first, layout.headroom, tailroom(first), checked);
  if (first < length) rte_pktmbuf_chain(m, segment(frame.data() + first, length - first, 0, tailroom(length - first), checked));
  return m;
}

void fix_checksums(std::vector<uint8_t>& frame) {
  if (frame.size() < kEth + kIp || be16(&frame[12]) != RTE_ETHER_TYPE_IPV4) return;
  uint8_t* ip = frame.data() + kEth;
  uint32_t header = (ip[0] & 0x0f) * 4u, total = be16(ip + 2);
  if ((ip[0] >> 4) != 4 || header < kIp || kEth + header > frame.size()) return;
  bool whole = total >= header && kEth + total <= frame.size() && (be16(ip + 6) & 0x3fff) == 0;
  uint8_t* l4 = ip + header;
  uint32_t length = total - header;
  auto* ip_header = reinterpret_cast<rte_ipv4_hdr*>(ip);
  set_ip_checksum(ip, header);
  if (!whole) return;
  if (ip[9] == IPPROTO_TCP && length >= sizeof(rte_tcp_hdr)) {
    std::memset(l4 + 16, 0, 2);
    uint16_t check = rte_ipv4_udptcp_cksum(ip_header, l4);
    std::memcpy(l4 + 16, &check, 2);
  } else if (ip[9] == IPPROTO_UDP && length >= sizeof(rte_udp_hdr) && be16(l4 + 6) != 0) {
    std::memset(l4 + 6, 0, 2);
    uint16_t check = rte_ipv4_udptcp_cksum(ip_header, l4);
    std::memcpy(l4 + 6, &check, 2);
  } else if (ip[9] == IPPROTO_ICMP && length >= kIcmp) {
    uint32_t quoted_header;
    if (uint8_t* quoted = quoted_ip(l4, length, &quoted_header)) set_ip_checksum(quoted, quoted_header);
    std::memset(l4 + 2, 0, 2);
    uint16_t check = uint16_t(~rte_raw_cksum(l4, length));
    std::memcpy(l4 + 2, &check, 2);
  }
}

void check_sent(const rte_mbuf* m, uint16_t port, bool kernel_side) {
  uint32_t bytes = 0;
  uint16_t segments = 0;
  for (const rte_mbuf* s = m; s; s = s->next) {
    ++segments;
    bytes += s->data_len;
    if (uint32_t(s->data_off) + s->data_len > s->buf_len) fail("a segment overruns its buffer", port);
  }
  if (segments != m->nb_segs || bytes != m->pkt_len) fail("segment count or packet length disagree", port);
  if (kernel_side || m->pkt_len < kEth) return;
  bool checked = !RTE_MBUF_HAS_EXTBUF(m) || reinterpret_cast<const Buffer*>(m->shinfo)->checked;
  if (!checked) return;
  std::vector<uint8_t> copy(m->pkt_len);
  auto* frame = static_cast<const uint8_t*>(rte_pktmbuf_read(m, 0, m->pkt_len, copy.data()));
  if (be16(frame + 12) != RTE_ETHER_TYPE_IPV4) return;
  if (m->pkt_len < kEth + kIp) fail("IPv4 frame shorter than its header", port);
  const uint8_t* ip = frame + kEth;
  uint32_t header = (ip[0] & 0x0f) * 4u, total = be16(ip + 2);
  if ((ip[0] >> 4) != 4 || header < kIp || total < header || kEth + total > m->pkt_len)
    fail("IPv4 header or total length inconsistent", port);
  if (!sum_ok(ip, header)) fail("IPv4 header checksum", port);
  if (ip[8] == 0) fail("TTL 0", port);
  if (be16(ip + 6) & 0x3fff) return;
  const uint8_t* l4 = ip + header;
  uint32_t length = total - header;
  auto* ip_header = reinterpret_cast<const rte_ipv4_hdr*>(ip);
  if (ip[9] == IPPROTO_TCP) {
    if (length < sizeof(rte_tcp_hdr) || (l4[12] >> 4) * 4u < sizeof(rte_tcp_hdr) || (l4[12] >> 4) * 4u > length)
      fail("TCP header length", port);
    if (!l4_sum_ok(ip_header, l4, length)) fail("TCP checksum", port);
  } else if (ip[9] == IPPROTO_UDP) {
    if (length < sizeof(rte_udp_hdr)) fail("UDP header length", port);
    if (be16(l4 + 6) != 0 && !l4_sum_ok(ip_header, l4, length)) fail("UDP checksum", port);
  } else if (ip[9] == IPPROTO_ICMP && length >= kIcmp) {
    if (!sum_ok(l4, length)) fail("ICMP checksum", port);
    uint32_t quoted_header;
    if (const uint8_t* quoted = quoted_ip(const_cast<uint8_t*>(l4), length, &quoted_header))
      if (!sum_ok(quoted, quoted_header)) fail("the IP checksum an ICMP error quotes", port);
  }
}

}  // namespace fuzz
