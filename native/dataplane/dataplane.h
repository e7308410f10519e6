// The whole control API of the data plane, in one class: the addon (native/binding) and the
// native tests and benchmark drive it; nothing else touches ports, workers or snapshots.
// Calls are made one at a time (the addon holds a lock), from any one thread at a time, but for
// drain_sync and ingest_sync, which touch only the sync rings and always come from one thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config.h"
#include "counters.h"
#include "worker.h"

namespace l4lb {

struct EngineOptions {
  uint16_t workers = 1;
  IdleMode idle = IdleMode::adaptive;
  uint32_t sessions_per_worker = 1 << 20;
  std::string instance;          // unique per process on the host: file prefix, tap names
  std::vector<std::string> extra_eal_args;
};

// A refused configuration: `field` names what is wrong in API terms ("/nics/c0/device").
struct ApplyError {
  std::string field;
  std::string message;
};

struct NicStatus {
  std::string name;
  uint16_t port = kNoPort;
  std::string tap;               // kernel interface of the exception path, "" when none
  bool link_up = false;
  uint32_t speed_mbps = 0;
  PortCounters counters;         // summed over workers
  uint64_t hw_rx_packets = 0, hw_tx_packets = 0, hw_rx_missed = 0, hw_rx_errors = 0, hw_tx_errors = 0;
};

struct ServiceStatus {
  std::string name;
  ServiceCounters counters;
  struct Server {
    std::string name;
    BackendCounters counters;
  };
  std::vector<Server> servers;
};

struct WorkerStatus {
  uint16_t id = 0;
  unsigned lcore = 0;
  uint64_t sessions = 0, redirected_out = 0, redirected_in = 0, loops = 0, busy_loops = 0;
  BurstHistogram burst;          // durations of the busy loops (burst_histogram.h)
};

// Peer records handed to workers, and those refused before (also counted in status()).
struct SyncIngestResult {
  size_t queued = 0, refused = 0;
};

struct EngineStatus {
  uint64_t generation = 0;
  std::vector<NicStatus> nics;
  std::vector<ServiceStatus> services;
  std::vector<WorkerStatus> workers;
  uint64_t sessions_live = 0, sessions_expired = 0, sessions_reset = 0;
  ClientAddressCounters client_address;   // summed over workers
  SyncCounters sync;                       // summed over workers, with the control thread's refusals
};

struct SessionRecord : SessionInfo {
  std::string service, server;   // names of service_id / backend_id
};

class Dataplane {
 public:
  // Starts the EAL (once per process) and the workers. Throws std::runtime_error with the
  // reason when the EAL or a worker cannot start.
  explicit Dataplane(const EngineOptions& options);
  ~Dataplane();  // stops workers, closes ports; the EAL stays (it cannot be restarted)

  Dataplane(const Dataplane&) = delete;
  Dataplane& operator=(const Dataplane&) = delete;

  // Checks `config` against what this data plane can do (devices that probe, resource limits)
  // without changing anything. Empty when it would be accepted.
  std::vector<ApplyError> check(const Config& config);
  // Makes `config` the running one: ports added/removed, then a new snapshot published.
  // Returns the errors and changes nothing when check() would refuse.
  std::vector<ApplyError> apply(const Config& config);
  // Makes the running config's services those of `services` (replacing the ones of the same
  // name, adding new ones) less those named in `removed`, keeping its NICs, routes, pools and
  // sync settings, and compiles only those services: what a real-server write or a health
  // transition costs, whatever the size of the rest. Changes nothing when refused.
  std::vector<ApplyError> update_services(uint64_t generation, const std::vector<ServiceConfig>& services,
                                          const std::vector<std::string>& removed);

  // Counters and state now; `only_service`, when given, limits `services` to the service of that
  // name and leaves `nics` empty, so one service's status costs what that service has.
  EngineStatus status(const std::string* only_service = nullptr);
  // The NICs' part of status() alone: links, taps and counters, whatever the number of services.
  std::vector<NicStatus> nic_status();
  // Live sessions matching `filter`, at most `limit` after skipping `skip`; `total` gets all matches.
  std::vector<SessionRecord> sessions(const SessionFilter& filter, size_t skip, size_t limit, size_t* total);
  size_t flush_sessions(const std::string& service);   // "" = all
  void announce();                                      // gratuitous ARP for every owned address

  // Session sync (docs/sync.md), from the one control thread.
  // Appends up to `max` queued events to `out` as wire records stamped with `node` and the
  // sequence numbers first_sequence, first_sequence + 1, …; returns how many.
  size_t drain_sync(size_t max, uint32_t node, uint32_t first_sequence, std::vector<uint8_t>& out);
  // Checks peer wire records (`size` a multiple of the record size) and queues each to the
  // worker that owns its flow here, its remaining time shortened by `age_ms`. Waits (up to
  // 50 ms a call) for room in a full ingest ring.
  SyncIngestResult ingest_sync(const uint8_t* records, size_t size, uint64_t age_ms);
  // Appends refresh records (sequence 0) of the sessions of services that sync, from `cursor`
  // on (0 to start), at most `limit`; returns where to continue, kSnapshotDone after the last.
  uint64_t snapshot_sync(uint64_t cursor, uint32_t limit, uint32_t node, std::vector<uint8_t>& out);
  static constexpr uint64_t kSnapshotDone = ~uint64_t(0);

  uint32_t service_id(const std::string& name) const;   // kAnyId when unknown
  uint32_t backend_id(const std::string& service, const std::string& server) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace l4lb
