// What timing a busy poll costs a worker (burst_histogram.h): converting its cycles to ns and
// counting it in the histogram, beside the two adds the loop already did for cycles_busy (the
// floor). Measured on one lcore after the other phases.
#pragma once

#include <cstdint>

namespace bench {

struct BurstCost {
  double record_cycles = 0;   // per busy poll: cycles → ns, bucket, count, sum
  double floor_cycles = 0;    // per busy poll: ++busy_loops, cycles_busy += cycles
};

BurstCost measure_burst_cost(uint64_t tsc_hz);
void print_burst_cost(const BurstCost& cost);

}  // namespace bench
