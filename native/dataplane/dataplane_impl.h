// The state behind Dataplane, shared by its two source files: dataplane.cc (lifecycle and
// apply) and dataplane_queries.cc (status, sessions, announcements).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dataplane.h"
#include "ports.h"
#include "server_sessions.h"

namespace l4lb {

struct Dataplane::Impl {
  struct Nic {
    NicConfig config;
    OpenPort port;
    std::string tap_name;
  };

  EngineOptions options;
  rte_mempool* pool = nullptr;
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<Worker*> worker_list;
  std::atomic<const Snapshot*> published{nullptr};
  std::unique_ptr<Snapshot> current;
  std::vector<std::unique_ptr<Snapshot>> retired;   // replaced, maybe still read by a worker
  uint64_t epoch = 0;               // snapshot generation: one per publish
  std::atomic<uint32_t> doorbell{0};  // rung after a publish or a request (Worker::doorbell)
  ServerSessions server_sessions;   // this node's sessions per real server (Worker::server_sessions)
  Config config;                    // the running one without its services (current holds them)
  std::map<std::string, Nic> nics;
  unsigned taps_created = 0;
  IdMap service_ids{kMaxServices};
  IdMap backend_ids{kMaxBackends};
  uint64_t sync_refused[static_cast<int>(SyncDrop::count_)] = {};   // by ingest_sync, before any worker

  void start_workers(const std::vector<unsigned>& lcores);
  void stop_workers();
  std::string next_tap_name() { return "l4t" + options.instance.substr(0, 7) + "-" + std::to_string(taps_created++); }
  Nic open_nic(const NicConfig& config);
  std::map<std::string, NicPorts> open_ports() const;
  void publish(std::unique_ptr<Snapshot> next, bool wait = true);
  void wait_for_workers(uint64_t generation);
  void ring();                      // wakes the workers that sleep (adaptive idle)
  void reclaim();
  void run_on_workers(WorkerRequest* requests);
  void run_on_worker(size_t index, WorkerRequest& request);
};


}  // namespace l4lb
