// The test network of lab.h.
#include "lab.h"

#include <dlfcn.h>

#include <algorithm>
#include <stdexcept>

#include <rte_ethdev.h>
#include <rte_ring_elem.h>

#include "neighbour.h"
#include "scheduler.h"
#include "sessions.h"
#include "snapshot_build.h"

namespace lab {

using namespace l4lb;

namespace {

constexpr uint16_t kQueues = 2;   // enough for the two-worker tests

// rte_eth_from_rings lives in the ring PMD, which the EAL loads as a plugin and
// `pkg-config --libs libdpdk` does not link: find it at run time.
using FromRings = int (*)(const char*, rte_ring* const[], unsigned, rte_ring* const[], unsigned, unsigned);
FromRings from_rings() {
  void* library = dlopen("librte_net_ring.so.23", RTLD_NOW | RTLD_GLOBAL);
  void* symbol = library ? dlsym(library, "rte_eth_from_rings") : nullptr;
  if (!symbol) throw std::runtime_error("cannot find rte_eth_from_rings in the ring PMD");
  return reinterpret_cast<FromRings>(symbol);
}

RingPort make_port(const std::string& name) {
  RingPort p;
  for (uint16_t q = 0; q < kQueues; ++q) {
    std::string rx = name + "_rx" + std::to_string(q), tx = name + "_tx" + std::to_string(q);
    p.rx.push_back(rte_ring_create(rx.c_str(), 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ));
    p.tx.push_back(rte_ring_create(tx.c_str(), 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ));
    if (!p.rx.back() || !p.tx.back()) throw std::runtime_error("cannot create ring for " + name);
  }
  int port = from_rings()(name.c_str(), p.rx.data(), kQueues, p.tx.data(), kQueues, SOCKET_ID_ANY);
  if (port < 0) throw std::runtime_error("cannot create ring port " + name);
  p.port = uint16_t(port);
  // Fast-path calls reach the driver only once the port is started.
  rte_eth_conf conf{};
  bool ok = rte_eth_dev_configure(p.port, kQueues, kQueues, &conf) == 0;
  for (uint16_t q = 0; ok && q < kQueues; ++q)
    ok = rte_eth_rx_queue_setup(p.port, q, 1024, SOCKET_ID_ANY, nullptr, packets::pool()) == 0 &&
         rte_eth_tx_queue_setup(p.port, q, 1024, SOCKET_ID_ANY, nullptr) == 0;
  if (!ok || rte_eth_dev_start(p.port) != 0) throw std::runtime_error("cannot start ring port " + name);
  return p;
}

Backend backend(uint32_t id, Address address, const Settings& s, int index) {
  Backend b;
  b.id = id;
  b.address = address;
  b.port = kServerPort;
  b.weight = s.weight[index];
  b.enabled = s.enabled[index];
  b.max_connections = s.max_connections[index];
  b.egress = Egress{server_port().port, address};
  return b;
}

}  // namespace

void RingPort::inject(rte_mbuf* m, uint16_t queue) {
  if (rte_ring_enqueue(rx[queue], m) != 0) throw std::runtime_error("rx ring full");
}

std::vector<rte_mbuf*> RingPort::sent(uint16_t queue) {
  std::vector<rte_mbuf*> frames;
  void* m;
  while (rte_ring_dequeue(tx[queue], &m) == 0) frames.push_back(static_cast<rte_mbuf*>(m));
  return frames;
}

void RingPort::clear() {
  for (uint16_t q = 0; q < rx.size(); ++q) {
    void* m;
    while (rte_ring_dequeue(rx[q], &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    while (rte_ring_dequeue(tx[q], &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
  }
}

void release(std::vector<rte_mbuf*>& frames) {
  for (rte_mbuf* m : frames) rte_pktmbuf_free(m);
  frames.clear();
}

std::vector<packets::Seen> sent_frames(RingPort& port, uint16_t queue) {
  std::vector<rte_mbuf*> frames = port.sent(queue);
  std::vector<packets::Seen> seen;
  for (rte_mbuf* m : frames) seen.push_back(packets::see(m));
  release(frames);
  return seen;
}

RingPort& client_port() {
  static RingPort p = make_port("lab_client");
  return p;
}
RingPort& server_port() {
  static RingPort p = make_port("lab_server");
  return p;
}
RingPort& tap_port() {
  static RingPort p = make_port("lab_tap");
  return p;
}

std::unique_ptr<Snapshot> snapshot(const Settings& s) {
  auto snap = std::make_unique<Snapshot>();
  snap->generation = s.generation;
  snap->sync_events = s.sync_events;
  snap->backup = s.backup;
  uint16_t client = client_port().port, server = server_port().port, tap = tap_port().port;
  snap->ports.resize(std::max({client, server, tap}) + 1);
  PortInfo& c = snap->ports[client];
  c.port = client;
  c.tap = tap;
  c.mac = kClientSideMac;
  c.probe = kProbe;
  c.owned = {kVip, kVip6};
  PortInfo& v = snap->ports[server];
  v.port = server;
  v.mac = kServerSideMac;
  v.owned = {kLip, kLip6};
  v.mtu = s.server_mtu;

  snap->pools.resize(2);
  for (uint32_t p = 0; p < 2; ++p) {
    Pool& pool = snap->pools[p];
    pool.id = p;
    pool.port = server;
    pool.addresses = {p == 0 ? kLip : kLip6};
    if (p == 0) pool.peer_addresses = s.peer_addresses;
    pool.port_min = s.port_min;
    pool.port_max = s.port_max;
  }
  index_local_addresses(*snap);

  snap->routes = {Route{Prefix{ip(10, 0, 0, 0), 24}, Egress{client, Address()}},
                  Route{Prefix{ip(10, 1, 0, 0), 24}, Egress{server, Address()}},
                  Route{Prefix{packets::ip6("2001:db8::"), 64}, Egress{client, Address()}},
                  Route{Prefix{packets::ip6("2001:db8:1::"), 64}, Egress{server, Address()}}};
  snap->service_by_id.assign(kMaxServices, nullptr);
  snap->backend_by_id.assign(kMaxBackends, nullptr);
  for (uint32_t i = 0; i <= kNat64Service; ++i) {
    const bool tcp = i != kUdpService && i != kUdp6Service, v6_servers = i == kTcp6Service || i == kUdp6Service;
    auto built = std::make_shared<Service>();
    Service& svc = *built;
    svc.id = i;
    svc.version = s.version;
    svc.address = i < kTcp6Service ? kVip : kVip6;
    svc.port = i == kNat64Service ? kNat64Port : tcp ? kTcpPort : kUdpPort;
    svc.protocol = tcp ? Protocol::tcp : Protocol::udp;
    svc.in_port = client;
    svc.pool = v6_servers ? 1 : 0;
    svc.scheduler_kind = SchedulerKind::rr;
    svc.enabled = s.service_enabled;
    svc.client_address = s.client_address[tcp ? 0 : 1];
    svc.sync = s.service_sync;
    svc.client_rate_limit = s.client_rate_limit;
    svc.access = s.access[i];
    svc.backends = {backend(2 * i, v6_servers ? kRs6a : kRs1, s, 0), backend(2 * i + 1, v6_servers ? kRs6b : kRs2, s, 1)};
    svc.scheduler = Scheduler::build(svc.scheduler_kind, svc.backends);
    snap->by_vip[ServiceKey{svc.address, svc.port, uint8_t(svc.protocol)}] = &svc;
    snap->service_by_id[i] = &svc;
    for (const Backend& b : svc.backends) snap->backend_by_id[b.id] = &b;
    snap->services.push_back(std::move(built));
  }
  snap->ended_backends = s.ended;
  return snap;
}

Lab::Lab(uint16_t count, uint32_t capacity, const Settings& settings) {
  client_port().clear();
  server_port().clear();
  tap_port().clear();
  static unsigned labs = 0;
  ++labs;
  for (uint16_t i = 0; i < count; ++i) {
    auto w = std::make_unique<Worker>();
    w->id = i;
    w->workers = count;
    w->now_ms = 1000;
    w->published = &published;
    w->server_sessions = server_sessions.counts.get();
    w->pool = packets::pool();
    std::string name = "lab_inbox_" + std::to_string(labs) + "_" + std::to_string(i);
    w->inbox = rte_ring_create(name.c_str(), 1024, SOCKET_ID_ANY, RING_F_SC_DEQ);
    for (rte_ring** ring : {&w->sync_out, &w->sync_in}) {
      std::string ring_name = (ring == &w->sync_out ? "lab_so_" : "lab_si_") + std::to_string(labs) + "_" + std::to_string(i);
      *ring = rte_ring_create_elem(ring_name.c_str(), sizeof(SyncEvent), 4096, SOCKET_ID_ANY,
                                   RING_F_SP_ENQ | RING_F_SC_DEQ);
    }
    w->all = &all;
    w->sessions = make_session_table(capacity);
    w->local_ports = make_local_ports(i, count);
    all.push_back(w.get());
    workers.push_back(std::move(w));
  }
  publish(snapshot(settings));
}

Lab::~Lab() {
  for (auto& w : workers) {
    w->flush_tx();
    void* m;
    while (rte_ring_dequeue(w->inbox, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    rte_ring_free(w->inbox);
    rte_ring_free(w->sync_out);
    rte_ring_free(w->sync_in);
  }
  workers.clear();
  client_port().clear();
  server_port().clear();
  tap_port().clear();
}

void Lab::publish(std::unique_ptr<Snapshot> next) {
  published.store(next.get());
  snapshots.push_back(std::move(next));
  for (auto& w : workers) w->poll_once();
}

void Lab::seed_neighbours() {
  struct Known {
    Address address;
    MacAddress mac;
    uint16_t port;
  };
  for (const Known& k : {Known{kClient, kClientMac, client_port().port}, Known{kRs1, kRs1Mac, server_port().port},
                         Known{kRs2, kRs2Mac, server_port().port}, Known{kClient6, kClientMac, client_port().port},
                         Known{kRs6a, kRs1Mac, server_port().port}, Known{kRs6b, kRs2Mac, server_port().port}})
    for (auto& w : workers) {
      Neighbour* n = w->neighbours->find_or_add(k.address, w->now_ms);
      n->state = Neighbour::State::reachable;
      n->mac = k.mac;
      n->port = k.port;
      n->confirmed_ms = w->now_ms;
    }
}

void Lab::advance(uint64_t ms) {
  for (auto& w : workers) w->now_ms += ms;
}

uint64_t Lab::drops(Drop why, uint16_t i) const {
  uint64_t total = 0;
  for (const PortCounters& p : workers[i]->counters->ports) total += p.drops[static_cast<int>(why)];
  return total;
}

packets::Ends from_client(uint16_t client_port, uint16_t service_port) {
  return packets::Ends{kClientMac, kClientSideMac, kClient, kVip, client_port, service_port};
}

packets::Ends from_client6(uint16_t client_port, uint16_t service_port) {
  return packets::Ends{kClientMac, kClientSideMac, kClient6, kVip6, client_port, service_port};
}

packets::Ends from_server(Address server, uint16_t local_port) {
  const bool first = server == kRs1 || server == kRs6a;
  return packets::Ends{first ? kRs1Mac : kRs2Mac, kServerSideMac, server, server.is_v4() ? kLip : kLip6, kServerPort,
                       local_port};
}

l4lb::SyncEvent peer_event() {
  l4lb::SyncEvent e;
  e.kind = l4lb::SyncKind::new_session;
  e.protocol = IPPROTO_TCP;
  e.state = static_cast<uint8_t>(l4lb::TcpState::established);
  e.client_address = kClient;
  e.virtual_address = kVip;
  e.local_address = kLip;
  e.server_address = kRs1;
  e.client_port = 40000;
  e.virtual_port = kTcpPort;
  e.local_port = 2051;
  e.server_port = kServerPort;
  e.timeout_s = 90;
  e.remaining_ms = 89'500;
  return e;
}

}  // namespace lab
