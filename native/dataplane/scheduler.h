// Real-server selection for new sessions. A Scheduler is built from the service's backends
// when they change (immutable, shared by all workers and by snapshots while they last); what changes per pick (round-robin
// position, smooth-wrr credits) lives in a per-worker SchedulerCursor, so picking takes no lock.
// Least-connection schedulers read the calling worker's own active-session counts, as each
// worker balances its own share of the flows. Every scheduler passes over a server at its
// maxConnections (server_sessions.h) as it passes over one at weight 0.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "counters.h"
#include "snapshot.h"

namespace l4lb {

constexpr uint32_t kMaglevTableSize = 65537;  // prime, > 100 × backends for even spread

// The client end of a new flow: what sh and mh hash on.
struct FlowHint {
  Address client_address;
  uint16_t client_port = 0;
};

// What a pick reads of the servers' load, by Backend::id. A pick that reads none (tests): null.
struct ServerLoad {
  ServerLoad(const uint32_t* active = nullptr) : active(active) {}   // implicit: lc/wlc tests pass counts alone
  ServerLoad(const uint32_t* active, const std::atomic<uint32_t>* sessions, BackendCounters* counters)
      : active(active), sessions(sessions), counters(counters) {}

  // Whether a server with this id and maxConnections (0: none) is full; a full one is counted
  // as `limited`. Cost: one compare without a limit; a relaxed load (a line other workers
  // write when sessions start and end) and, when full, one store with one.
  bool full(uint32_t id, uint32_t limit) const {
    if (limit == 0 || !sessions || sessions[id].load(std::memory_order_relaxed) < limit) return false;
    if (counters) ++counters[id].limited;
    return true;
  }

  const uint32_t* active = nullptr;                  // this worker's active sessions (lc, wlc)
  const std::atomic<uint32_t>* sessions = nullptr;   // this node's sessions (ServerSessions)
  BackendCounters* counters = nullptr;               // this worker's
};

// pick()'s answers besides an index: no server takes new sessions (all weight 0, disabled or
// down), or some would but every one of them is at its maxConnections.
constexpr int kNoServer = -1, kServersFull = -2;

// Per worker and per service mutable state. Reset (by the worker) when Service::version changes.
struct SchedulerCursor {
  uint64_t version = 0;
  uint32_t next = 0;                   // rr / wrr position
  std::vector<int64_t> credit;         // smooth weighted round robin, one per backend
};

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  // Index into `backends` of the chosen server, kNoServer or kServersFull.
  virtual int pick(const std::vector<Backend>& backends, SchedulerCursor& cursor, const FlowHint& flow,
                   const ServerLoad& load) const = 0;

  static std::shared_ptr<const Scheduler> build(SchedulerKind kind, const std::vector<Backend>& backends);
};

}  // namespace l4lb
