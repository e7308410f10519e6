// The incremental checksum updates against checksums computed from scratch.
#include <cstdlib>
#include <cstring>

#include <rte_ip.h>

#include "check.h"
#include "checksum.h"

using namespace l4lb;

TEST(checksum_incremental_matches_recomputed) {
  std::srand(7);
  for (int round = 0; round < 2000; ++round) {
    uint16_t words[10];
    for (uint16_t& word : words) word = uint16_t(std::rand());
    words[5] = 0;
    words[5] = uint16_t(~rte_raw_cksum(words, sizeof words));
    int a = std::rand() % 10, b = std::rand() % 10;
    if (a == 5 || b == 5) continue;
    ChecksumDelta delta;
    uint16_t new_a = uint16_t(std::rand()), new_b = uint16_t(std::rand());
    delta.replace16(words[a], new_a);
    words[a] = new_a;
    delta.replace16(words[b], new_b);
    words[b] = new_b;
    uint16_t updated = update_checksum(words[5], delta);
    words[5] = 0;
    uint16_t recomputed = uint16_t(~rte_raw_cksum(words, sizeof words));
    // One's complement has two zeros (0x0000 and 0xffff); either verifies.
    bool both_zero = (updated == 0 || updated == 0xffff) && (recomputed == 0 || recomputed == 0xffff);
    CHECK(updated == recomputed || both_zero);
  }
}

TEST(checksum_udp_zero_stays_and_zero_result_becomes_ffff) {
  ChecksumDelta delta;
  delta.replace16(0x1234, 0x4321);
  CHECK_EQ(update_udp_checksum(0, delta), 0);
  ChecksumDelta none;
  CHECK_EQ(update_udp_checksum(0xffff, none), 0xffff);
}
