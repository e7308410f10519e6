// Cache-miss costs of memory_probe.h: one random cycle through every cache line of a buffer,
// walked by one pointer (each load waits for the one before, as a lookup that must read the
// index before it knows which session to read) and by kChains pointers at once (what a worker
// gets when it issues the loads of a whole burst before using any of them).
#include "memory_probe.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <numeric>
#include <random>
#include <vector>

#include <rte_cycles.h>
#include <rte_malloc.h>

namespace bench {

namespace {

constexpr size_t kLine = 64;
constexpr size_t kSteps = 1u << 20;   // loads per walk: enough to leave the caches' reach

struct Buffer {
  explicit Buffer(size_t bytes) : data(rte_malloc("bench_probe", bytes, kLine)), from_eal(data != nullptr) {
    if (!data) data = std::aligned_alloc(kLine, bytes);
  }
  ~Buffer() { from_eal ? rte_free(data) : std::free(data); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  void* data;
  bool from_eal;
};

}  // namespace

MissCost measure_miss_cost(size_t bytes) {
  MissCost cost;
  const size_t lines = bytes / kLine;
  if (lines < kChains * 2) return cost;
  Buffer buffer(lines * kLine);
  if (!buffer.data) return cost;
  cost.bytes = lines * kLine;

  // line[order[i]] holds order[i + 1]: one cycle through all lines in random order.
  std::vector<uint32_t> order(lines);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937_64(42));
  auto* line = static_cast<uint64_t*>(buffer.data);
  for (size_t i = 0; i < lines; ++i) line[size_t(order[i]) * 8] = uint64_t(order[(i + 1) % lines]) * 8;

  uint64_t at = uint64_t(order[0]) * 8;
  uint64_t start = rte_rdtsc_precise();
  for (size_t i = 0; i < kSteps; ++i) at = line[at];
  cost.dependent = double(rte_rdtsc_precise() - start) / kSteps;

  uint64_t chain[kChains];
  for (unsigned c = 0; c < kChains; ++c) chain[c] = uint64_t(order[c * (lines / kChains)]) * 8;
  start = rte_rdtsc_precise();
  for (size_t i = 0; i < kSteps / kChains; ++i)
    for (unsigned c = 0; c < kChains; ++c) chain[c] = line[chain[c]];
  cost.overlapped = double(rte_rdtsc_precise() - start) / (kSteps / kChains * kChains);

  // Keep the walks' results alive, or the compiler may drop the loads.
  volatile uint64_t sink = at;
  for (unsigned c = 0; c < kChains; ++c) sink = sink + chain[c];
  return cost;
}

}  // namespace bench
