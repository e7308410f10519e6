// The benchmark network of network.h.
#include "network.h"

#include <dlfcn.h>

#include <algorithm>
#include <map>
#include <stdexcept>

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "neighbour.h"
#include "sessions.h"

namespace bench {

using namespace l4lb;

namespace {

// Big enough for a burst in and a burst out between two drains, with room to spare.
constexpr unsigned kRingSize = 1024;
constexpr unsigned kInboxSize = 4096;   // as the Dataplane makes it

// The ring PMD is a plugin the EAL loads at start; nothing links it, so its constructor of
// ports from existing rings is looked up at run time (the EAL already loaded the library).
using FromRings = int (*)(const char*, rte_ring* const[], unsigned, rte_ring* const[], unsigned, unsigned);

FromRings ring_port_constructor() {
  static FromRings from_rings = [] {
    void* library = dlopen("librte_net_ring.so.23", RTLD_NOW | RTLD_GLOBAL);
    void* symbol = library ? dlsym(library, "rte_eth_from_rings") : nullptr;
    if (!symbol) throw std::runtime_error("the ring PMD (librte_net_ring.so.23) has no rte_eth_from_rings");
    return reinterpret_cast<FromRings>(symbol);
  }();
  return from_rings;
}

MacAddress made_up_mac(uint8_t last) { return MacAddress{{0x02, 0, 0, 0, 0xbe, last}}; }

RingPort make_ring_port(const std::string& name, uint16_t queues, rte_mempool* pool) {
  RingPort p;
  for (uint16_t q = 0; q < queues; ++q) {
    std::string rx = name + "_rx" + std::to_string(q), tx = name + "_tx" + std::to_string(q);
    // One producer and one consumer per ring: the generator and the worker's queue.
    p.rx.push_back(rte_ring_create(rx.c_str(), kRingSize, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ));
    p.tx.push_back(rte_ring_create(tx.c_str(), kRingSize, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ));
    if (!p.rx.back() || !p.tx.back()) throw std::runtime_error("cannot create the rings of " + name);
  }
  int port = ring_port_constructor()(name.c_str(), p.rx.data(), queues, p.tx.data(), queues, SOCKET_ID_ANY);
  if (port < 0) throw std::runtime_error("cannot create ring port " + name);
  p.port = uint16_t(port);
  // The fast path reaches the driver only once the port is started; for net_ring, setting up
  // a queue just takes the ring of that index.
  rte_eth_conf conf{};
  bool ok = rte_eth_dev_configure(p.port, queues, queues, &conf) == 0;
  for (uint16_t q = 0; ok && q < queues; ++q)
    ok = rte_eth_rx_queue_setup(p.port, q, kRingSize, SOCKET_ID_ANY, nullptr, pool) == 0 &&
         rte_eth_tx_queue_setup(p.port, q, kRingSize, SOCKET_ID_ANY, nullptr) == 0;
  if (!ok || rte_eth_dev_start(p.port) != 0) throw std::runtime_error("cannot start ring port " + name);
  rte_ether_addr mac;
  if (rte_eth_macaddr_get(p.port, &mac) != 0) throw std::runtime_error("no MAC address on " + name);
  for (int i = 0; i < 6; ++i) p.mac.bytes[i] = mac.addr_bytes[i];
  return p;
}

// Local addresses needed so that each worker's slice of their ports holds its sessions, plus
// one so the last address is not filled to the brim.
uint32_t local_addresses_for(uint16_t workers, uint32_t sessions_per_worker) {
  const uint32_t slice = (uint32_t(kLocalPortMax) - kLocalPortMin + 1) / workers;
  return (sessions_per_worker + slice - 1) / slice + 1;
}

// The NICs' networks hold every plan's VIPs, local addresses and servers; the IPv6 clients
// are reached through a default route, since a NIC has one gateway (the IPv4 one here).
Config bench_config(uint32_t local_addresses) {
  const Plan& v4 = ipv4_plan();
  const Plan& v6 = ipv6_plan();
  Config config;
  config.generation = 1;
  const std::vector<Prefix> client_side = {{address("10.0.0.0"), 24}, {address("2001:db8::"), 64}};
  const std::vector<Prefix> server_side = {{address("10.1.0.0"), 16}, {address("2001:db8:1::"), 48}};
  config.nics = {NicConfig{"client", "net_ring (bench)", client_side, v4.gateway, {}, {}, 1500},
                 NicConfig{"server", "net_ring (bench)", server_side, Address(), {}, {}, 1500}};
  config.routes = {RouteConfig{"default-ipv6", Prefix{Address(), 0}, v6.gateway, "client"}};
  for (const Plan& plan : plans()) {
    auto named = [&](const PoolConfig& p) { return p.name == plan.pool; };
    if (std::none_of(config.pools.begin(), config.pools.end(), named)) {   // NAT64 shares IPv4's
      PoolConfig pool{plan.pool, "server", {}, kLocalPortMin, kLocalPortMax, {}};
      for (uint32_t i = 0; i < local_addresses; ++i) pool.addresses.push_back(nth(plan.first_local, i));
      config.pools.push_back(pool);
    }
    ServiceConfig web;
    web.name = "web-" + plan.key;
    web.address = plan.vip;
    web.port = plan.vip_port;
    web.protocol = Protocol::tcp;
    web.nic = "client";
    web.pool = plan.pool;
    web.scheduler = SchedulerKind::wlc;   // the default, and the one that reads per-worker counts
    for (uint16_t i = 0; i < kServers; ++i)
      web.real_servers.push_back(
          RealServerConfig{"rs" + std::to_string(i + 1), nth(plan.first_server, i), kServerPort, 1, true});
    if (plan.allow_entries) {
      for (uint32_t i = 0; i + 1 < plan.allow_entries; ++i) web.allow.push_back(Prefix{nth(plan.client_base, i), 32});
      web.allow.push_back(Prefix{plan.client_base, 15});   // 198.18.0.0/15: every client
    }
    config.services.push_back(web);
  }
  return config;
}

}  // namespace

std::unique_ptr<Network> make_network(uint16_t workers, uint32_t sessions_per_worker, rte_mempool* pool) {
  auto net = std::make_unique<Network>();
  net->workers = workers;
  net->client = make_ring_port("bench_client", workers, pool);
  net->server = make_ring_port("bench_server", workers, pool);
  net->gateway_mac = made_up_mac(0x01);
  for (uint16_t i = 0; i < kServers; ++i) net->server_macs[i] = made_up_mac(uint8_t(0x11 + i));
  net->local_addresses = local_addresses_for(workers, sessions_per_worker);

  std::map<std::string, NicPorts> ports = {{"client", NicPorts{net->client.port, kNoPort, net->client.mac}},
                                           {"server", NicPorts{net->server.port, kNoPort, net->server.mac}}};
  IdMap service_ids(kMaxServices), backend_ids(kMaxBackends);
  net->snapshot = compile_snapshot(bench_config(net->local_addresses), ports, workers, service_ids, backend_ids, nullptr);
  net->published.store(net->snapshot.get(), std::memory_order_release);
  return net;
}

std::unique_ptr<Worker> make_worker(Network& net, uint16_t id, uint32_t capacity, rte_mempool* pool,
                                    const std::string& tag) {
  auto w = std::make_unique<Worker>();
  w->id = id;
  w->workers = net.workers;
  w->idle = IdleMode::busy;
  w->tsc_hz = rte_get_tsc_hz();
  w->published = &net.published;
  w->server_sessions = net.server_sessions.counts.get();
  std::string inbox = "bench_inbox" + tag + std::to_string(id);
  w->inbox = rte_ring_create(inbox.c_str(), kInboxSize, SOCKET_ID_ANY, RING_F_SC_DEQ);
  if (!w->inbox) throw std::runtime_error("cannot create ring " + inbox);
  w->all = &net.all_workers[tag];
  w->sessions = make_session_table(capacity);
  w->local_ports = make_local_ports(id, net.workers);
  w->pool = pool;
  w->poll_once();   // takes the snapshot and sets the worker's clock
  if (w->snapshot != net.snapshot.get()) throw std::runtime_error("the worker did not take the snapshot");

  struct Known {
    Address address;
    MacAddress mac;
    uint16_t port;
  };
  std::vector<Known> known;
  for (const Plan& plan : plans()) {   // NAT64 repeats the others' addresses: found again, set alike
    known.push_back({plan.gateway, net.gateway_mac, net.client.port});
    for (uint16_t i = 0; i < kServers; ++i) known.push_back({nth(plan.first_server, i), net.server_macs[i], net.server.port});
  }
  for (const Known& k : known) {
    Neighbour* n = w->neighbours->find_or_add(k.address, w->now_ms);
    if (!n) throw std::runtime_error("no neighbour slot for a known address");
    n->state = Neighbour::State::reachable;
    n->mac = k.mac;
    n->port = k.port;
    n->confirmed_ms = w->now_ms;
  }
  return w;
}

}  // namespace bench
