// What session sync costs the data plane, measured on one lcore after the forwarding phases:
// a worker writing an event (beside a bare 64-byte ring enqueue, its floor), the control
// thread encoding and decoding wire records, and a worker installing peer sessions into a
// table that fills up as it goes. Timed in bursts the TSC can time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <rte_mempool.h>

#include "network.h"

namespace bench {

struct SyncCost {
  std::string name;
  double cycles = 0;   // per record or event
};

// `sessions` peer sessions are installed into a fresh worker of `network`.
std::vector<SyncCost> measure_sync(Network& network, rte_mempool* pool, uint32_t sessions);
void print_sync(const std::vector<SyncCost>& costs, uint64_t tsc_hz);

}  // namespace bench
