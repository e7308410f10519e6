// Incremental Internet checksum updates (RFC 1624, eqn. 3: HC' = ~(~HC + ~m + m')). NAT
// rewrites a few 16-bit words of a header; updating the checksum from the change costs a few
// adds, where recomputing it would read the whole header or, for TCP/UDP, the whole payload.
//
// Every value is taken exactly as it lies in the packet (network byte order): the one's
// complement sum does not depend on byte order as long as all words use the same one.
#pragma once

#include <cstdint>
#include <cstring>

namespace l4lb {

// The accumulated change of some 16-bit words of a checksummed area.
struct ChecksumDelta {
  uint32_t sum = 0;

  void replace16(uint16_t old_value, uint16_t new_value) { sum += uint16_t(~old_value) + new_value; }
  void replace32(uint32_t old_value, uint32_t new_value) {
    replace16(uint16_t(old_value >> 16), uint16_t(new_value >> 16));
    replace16(uint16_t(old_value), uint16_t(new_value));
  }
  // 16 bytes (an IPv6 address, or an IPv4 one as it counts beside one: 12 zero bytes first).
  void replace128(const void* old_value, const void* new_value) {
    uint16_t a[8], b[8];
    std::memcpy(a, old_value, 16);
    std::memcpy(b, new_value, 16);
    for (int i = 0; i < 8; ++i) replace16(a[i], b[i]);
  }
  void add(const ChecksumDelta& other) { sum += other.sum; }
};

inline uint16_t fold_checksum(uint32_t sum) {
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(sum);
}

// The checksum field `check` after the words in `delta` changed.
inline uint16_t update_checksum(uint16_t check, const ChecksumDelta& delta) {
  return uint16_t(~fold_checksum(uint16_t(~check) + fold_checksum(delta.sum)));
}

// UDP over IPv4: 0 means "no checksum" and stays 0; a computed 0 is sent as 0xffff (RFC 768).
inline uint16_t update_udp_checksum(uint16_t check, const ChecksumDelta& delta) {
  if (check == 0) return 0;
  uint16_t updated = update_checksum(check, delta);
  return updated == 0 ? 0xffff : updated;
}

}  // namespace l4lb
