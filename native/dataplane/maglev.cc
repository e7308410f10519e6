// Maglev table population; see maglev.h for the method and why it is built this way.
#include "maglev.h"

#include <algorithm>
#include <tuple>

namespace l4lb {

namespace {

// One backend's walk through its permutation of the table's slots.
struct Walker {
  int32_t index;      // into the caller's backends
  uint64_t weight;
  uint64_t credit;    // turns accumulate here; one claim per `max weight` of credit
  uint32_t position;  // the next slot it prefers: offset, offset + skip, ... (mod size)
  uint32_t skip;      // 1..size-1; size is prime, so the walk visits every slot
};

uint64_t identity(const Backend& b) { return uint64_t(b.address.fold32()) << 16 | b.port; }

}  // namespace

std::vector<int32_t> build_maglev_table(const std::vector<Backend>& backends, uint32_t size) {
  std::vector<Walker> walkers;
  uint64_t max_weight = 0;
  for (size_t i = 0; i < backends.size(); ++i) {
    const Backend& b = backends[i];
    if (!in_maglev_table(b)) continue;
    uint64_t id = identity(b);
    uint32_t offset = uint32_t(mix64(id ^ 0x4f6666736574ULL) % size);
    uint32_t skip = uint32_t(mix64(id ^ 0x536b6970ULL) % (size - 1)) + 1;
    walkers.push_back({int32_t(i), b.weight, 0, offset, skip});
    max_weight = std::max<uint64_t>(max_weight, b.weight);
  }
  if (walkers.empty()) return {};
  // The same turn order on every node: by address:port, not by position in the config.
  std::sort(walkers.begin(), walkers.end(), [&](const Walker& x, const Walker& y) {
    return std::make_tuple(identity(backends[x.index]), x.index) <
           std::make_tuple(identity(backends[y.index]), y.index);
  });

  std::vector<int32_t> table(size, -1);
  uint32_t filled = 0;
  for (;;) {
    for (Walker& w : walkers) {
      // A backend of weight w takes a turn in w / max_weight of the rounds.
      w.credit += w.weight;
      if (w.credit < max_weight) continue;
      w.credit -= max_weight;
      while (table[w.position] >= 0) {
        w.position += w.skip;
        if (w.position >= size) w.position -= size;
      }
      table[w.position] = w.index;
      if (++filled == size) return table;
    }
  }
}

}  // namespace l4lb
