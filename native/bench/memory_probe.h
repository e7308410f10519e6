// What a cache miss costs on this machine, measured on a buffer the size of a worker's session
// table: established forwarding over a million random flows is bound by such misses, so the
// numbers beside it explain it (and differ wildly between a laptop, a server and a VM).
#pragma once

#include <cstddef>

namespace bench {

struct MissCost {
  size_t bytes = 0;            // of the buffer probed
  double dependent = 0;        // cycles per load when each load needs the previous one
  double overlapped = 0;       // cycles per load with kChains independent loads in flight
};

constexpr unsigned kChains = 16;

// Random walks over `bytes` from the EAL's memory (hugepages when the EAL has them), else the
// C heap. Takes a fraction of a second; zeros when the memory cannot be had.
MissCost measure_miss_cost(size_t bytes);

}  // namespace bench
