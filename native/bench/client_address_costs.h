// What client address passing adds per packet, measured on its own: the per-session steps
// (TOA into a third ACK, a PROXY header into a first segment or a segment of its own) and the
// per-packet ones of a PROXY session (inbound seq, outbound ack and SACK edges). Each step runs
// on a fresh copy of a crafted segment; only the step itself is inside the TSC reads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <rte_mempool.h>

namespace bench {

struct StepCost {
  std::string name;
  double cycles = 0;   // median per operation, the TSC reads' own cost taken off
};

// Runs each step `repeats` times with frames from `pool`.
std::vector<StepCost> measure_client_address(rte_mempool* pool, unsigned repeats);
void print_client_address(const std::vector<StepCost>& costs, uint64_t tsc_hz);

}  // namespace bench
