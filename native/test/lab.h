// A small network for driving workers without threads: ring ports for the client side, the
// server side and the client side's tap, a hand-built Snapshot (one TCP and one UDP service
// with two real servers each, and the same over IPv6, and a NAT64 one) and Workers driven by
// poll_once() on a clock the test sets.
//
//   client 10.0.0.1      ── [port "client": VIP 10.0.0.100, probe 10.0.0.250 → tap]
//   client 2001:db8::1   ── [               VIP 2001:db8::100                    ]
//                           [port "server": LIP 10.1.0.2     ] ── RS1 10.1.0.11, RS2 10.1.0.12
//                           [               LIP 2001:db8:1::2] ── RS1 2001:db8:1::11, RS2 2001:db8:1::12
// Services: TCP kVip:80 and UDP kVip:53 (ids 0, 1; backends 0–3) to the IPv4 servers; TCP6
// kVip6:80 and UDP6 kVip6:53 (ids 2, 3; backends 4–7) to the IPv6 servers; NAT64 kVip6:81
// (id 4; backends 8, 9) to the IPv4 servers through the IPv4 local address.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include <rte_ring.h>

#include "packets.h"
#include "server_sessions.h"
#include "snapshot.h"
#include "sync_record.h"
#include "worker.h"

namespace lab {

using l4lb::Address;
using packets::ip;

const Address kClient = ip(10, 0, 0, 1), kVip = ip(10, 0, 0, 100), kProbe = ip(10, 0, 0, 250);
const Address kLip = ip(10, 1, 0, 2), kRs1 = ip(10, 1, 0, 11), kRs2 = ip(10, 1, 0, 12);
const Address kClient6 = packets::ip6("2001:db8::1"), kVip6 = packets::ip6("2001:db8::100");
const Address kLip6 = packets::ip6("2001:db8:1::2"), kRs6a = packets::ip6("2001:db8:1::11"),
              kRs6b = packets::ip6("2001:db8:1::12");
constexpr uint16_t kTcpPort = 80, kUdpPort = 53, kNat64Port = 81, kServerPort = 8080;
constexpr uint32_t kTcpService = 0, kUdpService = 1, kTcp6Service = 2, kUdp6Service = 3, kNat64Service = 4;
const l4lb::MacAddress kClientMac = packets::mac(0x01), kClientSideMac = packets::mac(0xa1),
                       kServerSideMac = packets::mac(0xb1), kRs1Mac = packets::mac(0x11),
                       kRs2Mac = packets::mac(0x12);

// A net_ring port: frames enqueued on `rx[q]` are what queue q receives; `tx[q]` holds what it sent.
struct RingPort {
  uint16_t port = l4lb::kNoPort;
  std::vector<rte_ring*> rx, tx;
  void inject(rte_mbuf* m, uint16_t queue = 0);
  std::vector<rte_mbuf*> sent(uint16_t queue = 0);   // dequeued; free with release()
  void clear();
};
void release(std::vector<rte_mbuf*>& frames);
// What a port sent on `queue`, decoded; the frames themselves are freed.
std::vector<packets::Seen> sent_frames(RingPort& port, uint16_t queue = 0);

// The three ports, made once per process (ethdev ports are a scarce, global resource).
RingPort& client_port();
RingPort& server_port();
RingPort& tap_port();

struct Settings {
  uint64_t generation = 1;
  uint64_t version = 1;              // of both services
  uint32_t weight[2] = {1, 1};       // RS1, RS2 (backend ids 0/1 for TCP, 2/3 for UDP)
  bool enabled[2] = {true, true};
  uint32_t max_connections[2] = {0, 0};          // RS1, RS2 of every service
  l4lb::ClientRateLimit client_rate_limit;       // of every service
  bool service_enabled = true;
  std::vector<uint32_t> ended;       // ended_backends
  uint16_t port_min = 1024, port_max = 65535;
  l4lb::ClientAddress client_address[2] = {};   // TCP, UDP service (and their IPv6 twins; NAT64 as TCP)
  uint16_t server_mtu = 1500;                    // of the server-side port
  bool sync_events = false, backup = false;      // session sync (sync_events.h)
  bool service_sync = true;                      // of both services
  std::vector<Address> peer_addresses;              // the pool's addresses on cluster peers
  l4lb::AccessList access[kNat64Service + 1];       // by service id; empty: no lists
};
std::unique_ptr<l4lb::Snapshot> snapshot(const Settings& settings = {});

// Workers sharing one published snapshot; each has its own inbox and sync rings.
struct Lab {
  explicit Lab(uint16_t workers = 1, uint32_t capacity = 1024, const Settings& settings = {});
  ~Lab();
  l4lb::Worker& worker(uint16_t i = 0) { return *workers[i]; }
  void publish(std::unique_ptr<l4lb::Snapshot> next);   // and let every worker take it
  void seed_neighbours();                               // client, RS1, RS2 as reachable
  unsigned poll(uint16_t i = 0) { return workers[i]->poll_once(); }
  void advance(uint64_t ms);                            // every worker's clock
  uint64_t drops(l4lb::Drop why, uint16_t i = 0) const;

  std::atomic<const l4lb::Snapshot*> published{nullptr};
  l4lb::ServerSessions server_sessions;
  std::vector<std::unique_ptr<l4lb::Snapshot>> snapshots;
  std::vector<std::unique_ptr<l4lb::Worker>> workers;
  std::vector<l4lb::Worker*> all;
};

// A peer's record of an established TCP session of the lab's service: client 40000 through
// the local address, port 2051, to RS1, 89.5 s of its 90 left; tests change what they need.
l4lb::SyncEvent peer_event();

// Frames between the client and the VIP, and between a real server and the local address.
packets::Ends from_client(uint16_t client_port, uint16_t service_port = kTcpPort);
packets::Ends from_client6(uint16_t client_port, uint16_t service_port = kTcpPort);
// From a real server of either family to the local address of its family.
packets::Ends from_server(Address server, uint16_t local_port);

}  // namespace lab
