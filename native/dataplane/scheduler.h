// Real-server selection for new sessions. A Scheduler is built from the service's backends
// when they change (immutable, shared by all workers and by snapshots while they last); what changes per pick (round-robin
// position, smooth-wrr credits) lives in a per-worker SchedulerCursor, so picking takes no lock.
// Least-connection schedulers read the calling worker's own active-session counts, as each
// worker balances its own share of the flows.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "snapshot.h"

namespace l4lb {

constexpr uint32_t kMaglevTableSize = 65537;  // prime, > 100 × backends for even spread

// The client end of a new flow: what sh and mh hash on.
struct FlowHint {
  Address client_address;
  uint16_t client_port = 0;
};

// Per worker and per service mutable state. Reset (by the worker) when Service::version changes.
struct SchedulerCursor {
  uint64_t version = 0;
  uint32_t next = 0;                   // rr / wrr position
  std::vector<int64_t> credit;         // smooth weighted round robin, one per backend
};

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  // Index into `backends` of the chosen server, or -1 when none takes new sessions (all weight
  // 0 or disabled). `active` is indexed by Backend::id: this worker's active sessions per server.
  virtual int pick(const std::vector<Backend>& backends, SchedulerCursor& cursor, const FlowHint& flow,
                   const uint32_t* active) const = 0;

  static std::shared_ptr<const Scheduler> build(SchedulerKind kind, const std::vector<Backend>& backends);
};

}  // namespace l4lb
