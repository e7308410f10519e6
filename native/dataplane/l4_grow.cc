// In-place growth of a TCP/UDP packet; see l4_grow.h for why the checksum is derived.
#include "l4_grow.h"

#include <cstring>

#include "checksum.h"

namespace l4lb {

namespace {

// One's complement arithmetic on folded 16-bit sums.
uint16_t add_sums(uint32_t a, uint32_t b) { return fold_checksum(a + b); }
uint16_t subtract_sum(uint16_t a, uint16_t b) { return fold_checksum(uint32_t(a) + uint16_t(~b)); }
uint16_t swap_bytes(uint16_t v) { return uint16_t((v << 8) | (v >> 8)); }

// Opens `n` bytes of room after the first `at` bytes of the frame and returns where it is.
uint8_t* open_room(rte_mbuf* m, uint32_t at, uint16_t n) {
  if (n == 0) return rte_pktmbuf_mtod_offset(m, uint8_t*, at);
  if (rte_pktmbuf_headroom(m) >= n) {
    auto* start = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(m, n));
    std::memmove(start, start + n, at);
    return start + at;
  }
  if (!rte_pktmbuf_is_contiguous(m) || rte_pktmbuf_tailroom(m) < n) return nullptr;
  uint8_t* base = rte_pktmbuf_mtod(m, uint8_t*);
  uint32_t tail = rte_pktmbuf_data_len(m) - at;
  rte_pktmbuf_append(m, n);
  std::memmove(base + at + n, base + at, tail);
  return base + at;
}

}  // namespace

bool replace_l4_head(rte_mbuf* m, IpFrame& f, uint16_t old_length, const uint8_t* head, uint16_t length,
                     uint16_t mtu) {
  if (length < old_length || old_length > f.l4_length) return false;
  uint16_t growth = length - old_length;
  if (uint32_t(ip_packet_length(f)) + growth > mtu) return false;

  bool tcp = f.protocol == IPPROTO_TCP;
  uint32_t check_offset = tcp ? offsetof(rte_tcp_hdr, cksum) : offsetof(rte_udp_hdr, dgram_cksum);
  uint16_t old_check;
  std::memcpy(&old_check, f.l4 + check_offset, 2);
  bool has_check = tcp || old_check != 0;   // UDP may go without one
  uint16_t payload_sum = 0;
  if (has_check) {
    uint16_t head_sum = subtract_sum(rte_raw_cksum(f.l4, old_length), old_check);
    payload_sum = subtract_sum(subtract_sum(uint16_t(~old_check), pseudo_header_sum(f)), head_sum);
  }

  uint8_t* base = rte_pktmbuf_mtod(m, uint8_t*);
  uint32_t ip_offset = uint32_t(f.ip - base), l4_offset = uint32_t(f.l4 - base);
  if (!open_room(m, l4_offset + old_length, growth)) return false;
  base = rte_pktmbuf_mtod(m, uint8_t*);
  f.ip = base + ip_offset;
  f.l4 = base + l4_offset;
  set_l4_length(f, uint16_t(f.l4_length + growth));

  std::memcpy(f.l4, head, length);
  if (!tcp) f.udp()->dgram_len = rte_cpu_to_be_16(f.l4_length);
  std::memset(f.l4 + check_offset, 0, 2);
  if (!has_check) return true;
  uint16_t moved_payload = (growth & 1) ? swap_bytes(payload_sum) : payload_sum;
  uint16_t sum = add_sums(add_sums(pseudo_header_sum(f), rte_raw_cksum(f.l4, length)), moved_payload);
  uint16_t check = uint16_t(~sum);
  if (!tcp && check == 0) check = 0xffff;   // RFC 768: a computed 0 is sent as all ones
  std::memcpy(f.l4 + check_offset, &check, 2);
  return true;
}

}  // namespace l4lb
