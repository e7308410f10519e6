// The burst-duration histogram (burst_histogram.h): bucket edges, the cycles → ns factor
// (a zero TSC frequency included) and what one recorded burst changes.
#include "burst_histogram.h"
#include "check.h"

using namespace l4lb;

TEST(burst_bounds_double_from_256_ns_to_about_1_ms) {
  CHECK_EQ(burst_bound_ns(0), uint64_t(256));
  CHECK_EQ(burst_bound_ns(1), uint64_t(512));
  CHECK_EQ(burst_bound_ns(BurstHistogram::kBounds - 1), uint64_t(1) << 20);
}

TEST(burst_bucket_is_the_first_bound_at_or_above) {
  CHECK_EQ(burst_bucket(0), 0u);
  CHECK_EQ(burst_bucket(1), 0u);
  CHECK_EQ(burst_bucket(256), 0u);
  CHECK_EQ(burst_bucket(257), 1u);
  CHECK_EQ(burst_bucket(512), 1u);
  CHECK_EQ(burst_bucket(513), 2u);
  CHECK_EQ(burst_bucket(3000), 4u);   // ≤ 4096
  for (unsigned i = 0; i < BurstHistogram::kBounds; ++i) {
    CHECK_EQ(burst_bucket(burst_bound_ns(i)), i);
    CHECK_EQ(burst_bucket(burst_bound_ns(i) + 1), i + 1);
  }
}

TEST(burst_bucket_clamps_long_polls_to_infinity) {
  const unsigned infinity = BurstHistogram::kBounds;
  CHECK_EQ(burst_bucket(burst_bound_ns(infinity - 1) + 1), infinity);
  CHECK_EQ(burst_bucket(uint64_t(1) << 40), infinity);
  CHECK_EQ(burst_bucket(~uint64_t(0)), infinity);
}

TEST(cycles_to_ns_uses_the_tsc_frequency) {
  CHECK_EQ(CyclesToNs(1000000000)(1234), uint64_t(1234));   // 1 GHz: a cycle is a ns
  CHECK_EQ(CyclesToNs(2500000000)(2500), uint64_t(1000));   // 2.5 GHz
  CHECK_EQ(CyclesToNs(3000000000)(3000000), uint64_t(1000000));   // 3 GHz, 1 ms
  CHECK_EQ(CyclesToNs(2000000000)(uint64_t(2000000000) * 3600), uint64_t(3600) * 1000000000);   // an hour, no overflow
}

TEST(cycles_to_ns_without_a_clock_is_zero) {
  CHECK_EQ(CyclesToNs(0)(123456), uint64_t(0));
}

TEST(a_recorded_burst_lands_in_its_bucket_and_the_sum) {
  BurstHistogram h;
  CyclesToNs to_ns(2000000000);
  record_burst(h, to_ns(1500));    // 750 ns: ≤ 1024
  record_burst(h, to_ns(1500));
  record_burst(h, to_ns(40000));   // 20 µs: ≤ 32768
  CHECK_EQ(h.counts[2], uint64_t(2));
  CHECK_EQ(h.counts[7], uint64_t(1));
  uint64_t total = 0;
  for (uint64_t c : h.counts) total += c;
  CHECK_EQ(total, uint64_t(3));
  CHECK_EQ(h.sum_ns, uint64_t(750 + 750 + 20000));
}
