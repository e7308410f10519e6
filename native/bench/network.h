// The benchmark's network: two net_ring ports (the client side and the server side, one
// rx/tx queue pair per worker), the Config a control plane would apply for them (a service
// per plan, plan.h), its compiled Snapshot, and workers set up as the Dataplane sets them up
// but driven by the benchmark through poll_once() rather than by Worker::run().
//
//   clients ── gateway ── [port "client": VIPs] [port "server": local addresses] ── real servers
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <rte_mempool.h>
#include <rte_ring.h>

#include "config.h"
#include "plan.h"
#include "server_sessions.h"
#include "snapshot.h"
#include "worker.h"

namespace bench {

// A net_ring port: what is enqueued on rx[q] is what queue q receives; tx[q] collects what
// queue q sent.
struct RingPort {
  uint16_t port = l4lb::kNoPort;
  l4lb::MacAddress mac;
  std::vector<rte_ring*> rx, tx;
};

struct Network {
  uint16_t workers = 1;
  RingPort client, server;
  l4lb::MacAddress gateway_mac, server_macs[kServers];
  uint32_t local_addresses = 0;   // in each pool, counted from its plans' first_local
  std::unique_ptr<const l4lb::Snapshot> snapshot;
  std::atomic<const l4lb::Snapshot*> published{nullptr};
  l4lb::ServerSessions server_sessions;   // shared by every plan's workers (no limits set here)
  // Every worker's inbox, as Worker::redirect needs, per tag of make_worker(): the workers
  // of one plan stand for one data plane.
  std::map<std::string, std::vector<l4lb::Worker*>> all_workers;
};

// Ports, configuration and snapshot for `workers` workers of `sessions_per_worker` sessions
// each: enough local addresses that every worker's port slices hold its sessions. The ports
// are started with `pool` (net_ring allocates nothing from it).
std::unique_ptr<Network> make_network(uint16_t workers, uint32_t sessions_per_worker, rte_mempool* pool);

// A worker as dataplane.cc makes one (busy polling, its clock from the TSC), with a session
// table of `capacity`, the snapshot taken and every plan's gateway and real servers already
// resolved, so no frame waits for ARP or ND. `tag` keeps the inbox ring's name apart from other
// workers with `id` and names the workers it redirects to (Network::all_workers).
std::unique_ptr<l4lb::Worker> make_worker(Network& network, uint16_t id, uint32_t capacity, rte_mempool* pool,
                                          const std::string& tag);

}  // namespace bench
