// Cost of the burst-duration histogram; see burst_cost.h.
#include "burst_cost.h"

#include <cstdio>
#include <stdexcept>
#include <vector>

#include <rte_cycles.h>

#include "burst_histogram.h"

namespace bench {

namespace {

constexpr unsigned kDurations = 4096;       // spread over every bucket, so no branch predicts them all
constexpr unsigned kRounds = 2048;

// Durations in cycles from ~100 to ~4M: every bucket and +Inf at a few GHz.
std::vector<uint64_t> durations() {
  std::vector<uint64_t> d(kDurations);
  uint64_t x = 88172645463325252ull;
  for (uint64_t& v : d) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    v = (uint64_t(1) << (7 + x % 16)) + x % 128;
  }
  return d;
}

template <class Step>
double cycles_per(const std::vector<uint64_t>& d, Step&& step) {
  uint64_t start = rte_rdtsc_precise();
  for (unsigned r = 0; r < kRounds; ++r)
    for (uint64_t cycles : d) step(cycles);
  return double(rte_rdtsc_precise() - start) / (double(kRounds) * d.size());
}

}  // namespace

BurstCost measure_burst_cost(uint64_t tsc_hz) {
  const std::vector<uint64_t> d = durations();
  const l4lb::CyclesToNs to_ns(tsc_hz);
  l4lb::BurstHistogram histogram;
  // volatile: the loop the worker runs keeps these in memory (counters the control thread reads).
  volatile uint64_t busy_loops = 0, cycles_busy = 0;
  BurstCost cost;
  cost.floor_cycles = cycles_per(d, [&](uint64_t cycles) {
    busy_loops = busy_loops + 1;
    cycles_busy = cycles_busy + cycles;
  });
  cost.record_cycles = cycles_per(d, [&](uint64_t cycles) {
    busy_loops = busy_loops + 1;
    cycles_busy = cycles_busy + cycles;
    l4lb::record_burst(histogram, to_ns(cycles));
  }) - cost.floor_cycles;
  // Every poll counted once: checks the recording, and keeps the compiler from dropping it.
  uint64_t counted = 0;
  for (uint64_t c : histogram.counts) counted += c;
  if (counted != uint64_t(kRounds) * d.size()) throw std::runtime_error("the burst histogram lost polls");
  return cost;
}

void print_burst_cost(const BurstCost& cost) {
  std::printf("\nburst-duration histogram, cycles per busy poll (mean of %u polls)\n", kRounds * kDurations);
  std::printf("  %-52s %8.1f\n", "record (cycles to ns, bucket, count, sum)", cost.record_cycles);
  std::printf("  %-52s %8.1f\n", "floor: the poll's existing two counter adds", cost.floor_cycles);
}

}  // namespace bench
