// The configuration the snapshot tests compile: two NICs, routes, a pool and two services on
// one VIP, with helpers to compile it and look services up (snapshot_test.cc,
// snapshot_update_test.cc).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "snapshot.h"

namespace snapshot_fixture {

using namespace l4lb;

inline Address ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return Address::v4(uint32_t(a) << 24 | uint32_t(b) << 16 | uint32_t(c) << 8 | d);
}

inline RealServerConfig server(const std::string& name, Address address, uint16_t port) {
  RealServerConfig rs;
  rs.name = name;
  rs.address = address;
  rs.port = port;
  return rs;
}

// Client side c0 (10.0.0.0/24, gateway .1) on DPDK port 0; server side s0 (10.1.0.0/24) on
// port 2 with routes to 10.2.0.0/16 and 10.2.3.0/24; two services on one VIP.
inline Config test_config() {
  Config c;
  c.generation = 7;
  NicConfig c0;
  c0.name = "c0";
  c0.networks = {Prefix{ip(10, 0, 0, 0), 24}};
  c0.gateway = ip(10, 0, 0, 1);
  c0.probe = Prefix{ip(10, 0, 0, 2), 24};
  c0.mtu = 9000;
  NicConfig s0;
  s0.name = "s0";
  s0.networks = {Prefix{ip(10, 1, 0, 0), 24}};
  c.nics = {c0, s0};
  c.routes = {RouteConfig{"far", Prefix{ip(10, 2, 0, 0), 16}, ip(10, 1, 0, 254), "s0"},
              RouteConfig{"near", Prefix{ip(10, 2, 3, 0), 24}, ip(10, 1, 0, 253), "s0"},
              RouteConfig{"shadow", Prefix{ip(10, 1, 0, 0), 24}, ip(10, 1, 0, 9), "s0"}};
  PoolConfig pool;
  pool.name = "p0";
  pool.nic = "s0";
  pool.addresses = {ip(10, 1, 0, 100), ip(10, 1, 0, 101)};
  c.pools = {pool};
  ServiceConfig web;
  web.name = "web";
  web.address = ip(10, 0, 0, 10);
  web.port = 80;
  web.nic = "c0";
  web.pool = "p0";
  web.scheduler = SchedulerKind::wrr;
  web.real_servers = {server("a", ip(10, 1, 0, 11), 8080), server("b", ip(10, 2, 3, 4), 8080),
                      server("c", ip(8, 8, 8, 8), 80)};
  ServiceConfig dns = web;
  dns.name = "dns";
  dns.port = 53;
  dns.protocol = Protocol::udp;
  dns.real_servers = {server("x", ip(10, 1, 0, 53), 53)};
  c.services = {web, dns};
  return c;
}

inline std::map<std::string, NicPorts> test_ports() {
  NicPorts c0{0, 1, {{2, 0, 0, 0, 0, 1}}};
  NicPorts s0{2, 3, {{2, 0, 0, 0, 0, 2}}};
  return {{"c0", c0}, {"s0", s0}};
}

struct Compiler {
  IdMap service_ids{kMaxServices};
  IdMap backend_ids{kMaxBackends};
  std::unique_ptr<Snapshot> last;
  const Snapshot& compile(const Config& config) {
    last = compile_snapshot(config, test_ports(), 2, service_ids, backend_ids, last.get());
    return *last;
  }
};

inline const Service* by_name(const Snapshot& snap, const IdMap& ids, const std::string& name) {
  uint32_t id = ids.find(name);
  return id == IdMap::kNoId ? nullptr : snap.service_by_id[id];
}

inline bool same_egress(const Egress& e, uint16_t port, Address next_hop) { return e.port == port && e.next_hop == next_hop; }


}  // namespace snapshot_fixture
