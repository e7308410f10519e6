// The schedulers. Each is built once per snapshot from the service's backends and keeps only
// what pick() needs: the eligible backends (enabled, weight > 0) in config order, and for sh
// and mh a lookup table. pick() runs once per new session on the worker's fast path: it never
// allocates (except wrr's first pick after a change, which sizes the cursor) and never locks.
// A server at its maxConnections is passed over (ServerLoad::full): one compare per server
// looked at when it has no limit.
#include "scheduler.h"

#include <algorithm>
#include <numeric>

#include "maglev.h"

namespace l4lb {

namespace {

struct Eligible {
  int32_t index;    // into the service's backends
  uint32_t id;      // Backend::id, for the active-session counts
  uint32_t weight;  // > 0
  uint32_t limit;   // maxConnections; 0: none
};

std::vector<Eligible> eligible_of(const std::vector<Backend>& backends) {
  std::vector<Eligible> out;
  for (size_t i = 0; i < backends.size(); ++i)
    if (takes_new_sessions(backends[i]))
      out.push_back({int32_t(i), backends[i].id, backends[i].weight, backends[i].max_connections});
  return out;
}

// The cursor's position, brought back in range if the cursor is stale.
uint32_t position(const SchedulerCursor& cursor, size_t count) {
  return cursor.next < count ? cursor.next : 0;
}

class EligibleScheduler : public Scheduler {
 protected:
  explicit EligibleScheduler(const std::vector<Backend>& backends) : eligible_(eligible_of(backends)) {}
  std::vector<Eligible> eligible_;
};

// rr: each eligible backend in turn, full ones skipped. O(1), O(eligible) while most are full.
class RoundRobin final : public EligibleScheduler {
 public:
  explicit RoundRobin(const std::vector<Backend>& backends) : EligibleScheduler(backends) {}
  int pick(const std::vector<Backend>&, SchedulerCursor& cursor, const FlowHint&, const ServerLoad& load) const override {
    size_t count = eligible_.size();
    if (count == 0) return kNoServer;
    uint32_t at = position(cursor, count);
    for (size_t step = 0; step < count; ++step, at = at + 1 < count ? at + 1 : 0) {
      if (load.full(eligible_[at].id, eligible_[at].limit)) continue;
      cursor.next = at + 1;
      return eligible_[at].index;
    }
    return kServersFull;
  }
};

// wrr: smooth weighted round robin. Every pick adds each backend's weight to its credit and
// takes the backend with the most credit, which then pays the total weight back. Over a cycle
// of sum(weights) picks each backend is taken exactly `weight` times, interleaved rather than
// in bursts. A full backend takes no part (no credit, so it does not catch up in a burst once
// it has room); the one taken pays back the weights of those that did. O(eligible) adds and
// compares per new session, on one contiguous array.
class WeightedRoundRobin final : public EligibleScheduler {
 public:
  explicit WeightedRoundRobin(const std::vector<Backend>& backends) : EligibleScheduler(backends) {}
  int pick(const std::vector<Backend>& backends, SchedulerCursor& cursor, const FlowHint&,
           const ServerLoad& load) const override {
    if (eligible_.empty()) return kNoServer;
    // A cursor from another version of the service: start over (allocates once per change).
    if (cursor.credit.size() != backends.size()) cursor.credit.assign(backends.size(), 0);
    int64_t* credit = cursor.credit.data();
    const Eligible* best = nullptr;
    int64_t total = 0;
    for (const Eligible& e : eligible_) {
      if (load.full(e.id, e.limit)) continue;
      credit[e.index] += e.weight;
      total += e.weight;
      if (!best || credit[e.index] > credit[best->index]) best = &e;
    }
    if (!best) return kServersFull;
    credit[best->index] -= total;
    return best->index;
  }
};

// lc and wlc: the backend with the fewest active sessions on this worker (per unit of weight
// for wlc). The scan starts after the last pick, so backends that tie share new sessions in
// turn; full backends are left out. O(eligible) reads of `active` per new session.
class LeastConnections final : public EligibleScheduler {
 public:
  LeastConnections(const std::vector<Backend>& backends, bool weighted)
      : EligibleScheduler(backends), weighted_(weighted) {}
  int pick(const std::vector<Backend>&, SchedulerCursor& cursor, const FlowHint&,
           const ServerLoad& load) const override {
    size_t count = eligible_.size();
    if (count == 0) return kNoServer;
    uint32_t start = position(cursor, count);
    size_t best = count;   // none yet
    for (size_t step = 0; step < count; ++step) {
      size_t at = start + step;
      if (at >= count) at -= count;
      if (load.full(eligible_[at].id, eligible_[at].limit)) continue;
      if (best == count || fewer(eligible_[at], eligible_[best], load.active)) best = at;
    }
    if (best == count) return kServersFull;
    cursor.next = uint32_t(best + 1);
    return eligible_[best].index;
  }

 private:
  // a has strictly fewer active sessions than b (per weight: a/wa < b/wb ⇔ a·wb < b·wa, exact).
  bool fewer(const Eligible& a, const Eligible& b, const uint32_t* active) const {
    uint64_t active_a = active ? active[a.id] : 0, active_b = active ? active[b.id] : 0;
    if (!weighted_) return active_a < active_b;
    return active_a * b.weight < active_b * a.weight;
  }
  bool weighted_;
};

// A table of buckets, each naming one backend, shared out in proportion to the weights;
// sh and mh look a flow's hash up in it. O(1): one hash and one table read per new session.
// When the bucket's backend cannot take the flow (mh: down; both: full), members are drawn
// by further hashes of the flow until one can (then, rarely, walked in turn): the flow goes
// to the same stand-in on every worker and node while nothing changes. O(members) at worst,
// while most of them are down or full.
class HashTable : public Scheduler {
 protected:
  int pick_for(uint64_t hash, const std::vector<Backend>& backends, const ServerLoad& load) const {
    if (table_.empty()) return kNoServer;
    int32_t chosen = table_[reduce_to(hash, uint32_t(table_.size()))];
    bool full = false;   // a healthy member was passed over at its limit
    if (takes(backends[chosen], load, full)) return chosen;
    uint32_t count = uint32_t(members_.size());
    for (int draw = 0; draw < kDraws; ++draw) {
      hash = mix64(hash);
      int32_t candidate = members_[reduce_to(hash, count)];
      if (takes(backends[candidate], load, full)) return candidate;
    }
    for (uint32_t step = 0, start = reduce_to(hash, count); step < count; ++step) {
      int32_t candidate = members_[(start + step) % count];
      if (takes(backends[candidate], load, full)) return candidate;
    }
    return full ? kServersFull : kNoServer;
  }

  std::vector<int32_t> table_;
  std::vector<int32_t> members_;   // indexes of the backends in the table

 private:
  static bool takes(const Backend& b, const ServerLoad& load, bool& full) {
    if (!b.healthy) return false;
    if (!load.full(b.id, b.max_connections)) return true;
    full = true;
    return false;
  }
  static constexpr int kDraws = 8;
};

// sh: the client address alone picks the server, so one client always lands on the same one
// while the backends stay the same and it has room. Buckets are handed out by weight (largest
// remainder), at least 16 per eligible backend so the shares stay close to the weights.
class SourceHash final : public HashTable {
 public:
  explicit SourceHash(const std::vector<Backend>& backends) {
    std::vector<Eligible> eligible = eligible_of(backends);
    if (eligible.empty()) return;
    uint32_t size = 4096;
    while (size < 16 * eligible.size()) size *= 2;
    uint64_t total = 0;
    for (const Eligible& e : eligible) total += e.weight;
    std::vector<uint64_t> share(eligible.size());
    std::vector<uint64_t> remainder(eligible.size());
    uint64_t given = 0;
    for (size_t i = 0; i < eligible.size(); ++i) {
      share[i] = uint64_t(size) * eligible[i].weight / total;
      remainder[i] = uint64_t(size) * eligible[i].weight % total;
      given += share[i];
    }
    std::vector<size_t> order(eligible.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return remainder[a] > remainder[b]; });
    for (size_t k = 0; given < size; ++k, ++given) ++share[order[k]];
    table_.reserve(size);
    for (size_t i = 0; i < eligible.size(); ++i) {
      table_.insert(table_.end(), share[i], eligible[i].index);
      members_.push_back(eligible[i].index);
    }
  }
  int pick(const std::vector<Backend>& backends, SchedulerCursor&, const FlowHint& flow,
           const ServerLoad& load) const override {
    return pick_for(mix64(uint64_t(flow.client_address.fold32()) ^ 0x5348a4c1d2e3f405ULL), backends, load);
  }
};

// mh: Maglev over client address and port (maglev.h). The table leaves health out, so a
// server going down or up rebuilds nothing: a flow whose bucket names a down server takes a
// stand-in as HashTable says. Flows of healthy servers never move; those of a down server
// spread evenly over the rest, the same way on every worker and every node.
class MaglevHash final : public HashTable {
 public:
  explicit MaglevHash(const std::vector<Backend>& backends) {
    table_ = build_maglev_table(backends, kMaglevTableSize);
    for (size_t i = 0; i < backends.size(); ++i)
      if (in_maglev_table(backends[i])) members_.push_back(int32_t(i));
  }
  int pick(const std::vector<Backend>& backends, SchedulerCursor&, const FlowHint& flow,
           const ServerLoad& load) const override {
    return pick_for(flow_hash(flow.client_address, flow.client_port), backends, load);
  }
};

}  // namespace

std::shared_ptr<const Scheduler> Scheduler::build(SchedulerKind kind, const std::vector<Backend>& backends) {
  switch (kind) {
    case SchedulerKind::rr: return std::make_unique<RoundRobin>(backends);
    case SchedulerKind::wrr: return std::make_unique<WeightedRoundRobin>(backends);
    case SchedulerKind::lc: return std::make_unique<LeastConnections>(backends, false);
    case SchedulerKind::wlc: return std::make_unique<LeastConnections>(backends, true);
    case SchedulerKind::sh: return std::make_unique<SourceHash>(backends);
    case SchedulerKind::mh: return std::make_unique<MaglevHash>(backends);
  }
  return std::make_unique<LeastConnections>(backends, true);  // a kind out of range: the default, wlc
}

}  // namespace l4lb
