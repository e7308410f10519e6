// The benchmark's network: two net_ring ports (the client side and the server side, one
// rx/tx queue pair per worker), the Config a control plane would apply for them, its
// compiled Snapshot, and workers set up as the Dataplane sets them up but driven by the
// benchmark through poll_once() rather than by Worker::run().
//
//   clients 198.18.0.0/15 ── gateway 10.0.0.1 ── [port "client": VIP 10.0.0.100:80]
//                         [port "server": local addresses 10.1.2.x] ── real servers 10.1.1.1-4:8080
//
// Clients sit behind a gateway (198.18.0.0/15 is the range RFC 2544 sets aside for
// benchmarks), so a million of them need one neighbour entry, as behind a real router.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <rte_mempool.h>
#include <rte_ring.h>

#include "config.h"
#include "snapshot.h"
#include "worker.h"

namespace bench {

using l4lb::Ipv4;

constexpr Ipv4 address(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return Ipv4(a) << 24 | Ipv4(b) << 16 | Ipv4(c) << 8 | d;
}

constexpr Ipv4 kClientBase = address(198, 18, 0, 0);
constexpr uint32_t kClientAddresses = 1u << 17;   // the whole /15
constexpr Ipv4 kGateway = address(10, 0, 0, 1);
constexpr Ipv4 kVip = address(10, 0, 0, 100);
constexpr uint16_t kVipPort = 80;
constexpr Ipv4 kFirstServer = address(10, 1, 1, 1);
constexpr uint16_t kServers = 4;
constexpr uint16_t kServerPort = 8080;
constexpr Ipv4 kFirstLocal = address(10, 1, 2, 1);
constexpr uint16_t kLocalPortMin = 1024, kLocalPortMax = 65535;

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
  std::vector<Ipv4> local_addresses;
  std::unique_ptr<const l4lb::Snapshot> snapshot;
  std::atomic<const l4lb::Snapshot*> published{nullptr};
  std::vector<l4lb::Worker*> all_workers;   // every worker's inbox, as Worker::redirect needs
};

// Ports, configuration and snapshot for `workers` workers of `sessions_per_worker` sessions
// each: enough local addresses that every worker's port slices hold its sessions. The ports
// are started with `pool` (net_ring allocates nothing from it).
std::unique_ptr<Network> make_network(uint16_t workers, uint32_t sessions_per_worker, rte_mempool* pool);

// A worker as dataplane.cc makes one (busy polling, its clock from the TSC), with a session
// table of `capacity`, the snapshot taken and the gateway and real servers already resolved,
// so no frame waits for ARP. `tag` keeps the inbox ring's name apart from other workers with `id`.
std::unique_ptr<l4lb::Worker> make_worker(Network& network, uint16_t id, uint32_t capacity, rte_mempool* pool,
                                          const std::string& tag = "");

}  // namespace bench
