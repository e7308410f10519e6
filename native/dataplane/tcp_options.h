// Reading and patching TCP options in place, for the client-address features (TOA, MSS,
// SACK edges under a PROXY header's sequence shift). Options are not aligned by rule: a patch
// may straddle 16-bit checksum words, so it re-sums the words it touches.
#pragma once

#include <cstdint>
#include <cstring>

#include <rte_ip.h>

#include "checksum.h"

namespace l4lb {

constexpr uint8_t kTcpOptionEnd = 0, kTcpOptionNop = 1, kTcpOptionMss = 2, kTcpOptionSack = 5;
constexpr uint16_t kTcpFixedHeader = 20, kTcpMaxHeader = 60;

// Calls visit(kind, offset, length) for each option of the TCP header at `header` (offsets
// from the header's start; NOP has length 1; the walk stops at End of Option List). Returns
// false when an option's length runs past the header: the caller leaves such a header alone.
// Cost: one pass over at most 40 bytes.
template <class Fn>
bool for_each_tcp_option(const uint8_t* header, uint16_t header_length, Fn&& visit) {
  for (uint16_t i = kTcpFixedHeader; i < header_length;) {
    uint8_t kind = header[i];
    if (kind == kTcpOptionEnd) break;
    if (kind == kTcpOptionNop) {
      visit(kind, i, uint16_t(1));
      ++i;
      continue;
    }
    if (i + 1 >= header_length) return false;
    uint8_t length = header[i + 1];
    if (length < 2 || i + length > header_length) return false;
    visit(kind, i, uint16_t(length));
    i += length;
  }
  return true;
}

// Overwrites `n` bytes at `offset` of a checksummed area that starts at `base` (offset 0 is
// the first byte of a checksum word); returns the checksum `check` updated from the change of
// the 16-bit words touched. Cost: two sums over n + 2 bytes at most.
inline uint16_t patch_checksummed(uint8_t* base, uint32_t offset, const void* bytes, uint32_t n, uint16_t check) {
  uint32_t start = offset & ~1u, end = (offset + n + 1) & ~1u;
  uint16_t before = rte_raw_cksum(base + start, end - start);
  std::memcpy(base + offset, bytes, n);
  ChecksumDelta delta;
  delta.replace16(before, rte_raw_cksum(base + start, end - start));
  return update_checksum(check, delta);
}

}  // namespace l4lb
