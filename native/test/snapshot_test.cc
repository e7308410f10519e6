// Compiling a Config into a Snapshot: lookups, owned addresses, routes, ids, versions and
// the servers whose sessions end.
#include <algorithm>
#include <stdexcept>

#include "check.h"
#include "scheduler.h"
#include "snapshot.h"
#include "snapshot_fixture.h"

using namespace l4lb;
using namespace snapshot_fixture;


TEST(snapshot_finds_services_by_vip) {
  Compiler compiler;
  const Snapshot& snap = compiler.compile(test_config());
  CHECK_EQ(snap.generation, uint64_t(7));
  CHECK_EQ(snap.workers, uint16_t(2));
  const Service* web = snap.find_service(ip(10, 0, 0, 10), 80, 6);
  const Service* dns = snap.find_service(ip(10, 0, 0, 10), 53, 17);
  CHECK(web && web == by_name(snap, compiler.service_ids, "web"));
  CHECK(dns && dns == by_name(snap, compiler.service_ids, "dns"));
  CHECK(!snap.find_service(ip(10, 0, 0, 10), 53, 6));
  CHECK(!snap.find_service(ip(10, 0, 0, 11), 80, 6));
  if (!web) return;
  CHECK_EQ(web->in_port, uint16_t(0));
  CHECK_EQ(web->pool, 0u);
  CHECK(web->scheduler != nullptr);
  CHECK_EQ(web->backends.size(), size_t(3));
  for (const Backend& b : web->backends) CHECK(snap.backend_by_id[b.id] == &b);
  SchedulerCursor cursor;
  CHECK(web->scheduler->pick(web->backends, cursor, {}, nullptr) >= 0);
}

TEST(snapshot_finds_pools_by_local_address) {
  Compiler compiler;
  const Snapshot& snap = compiler.compile(test_config());
  CHECK_EQ(snap.pools.size(), size_t(1));
  CHECK(snap.find_pool(ip(10, 1, 0, 100)) == &snap.pools[0]);
  CHECK(snap.find_pool(ip(10, 1, 0, 101)) == &snap.pools[0]);
  CHECK(!snap.find_pool(ip(10, 1, 0, 102)));
  CHECK_EQ(snap.pools[0].port, uint16_t(2));
}

TEST(snapshot_ports_own_vips_and_local_addresses) {
  Compiler compiler;
  const Snapshot& snap = compiler.compile(test_config());
  const PortInfo* c0 = snap.port(0);
  const PortInfo* s0 = snap.port(2);
  CHECK(c0 && s0);
  CHECK(!snap.port(1));  // a tap, not a NIC
  CHECK(!snap.port(3));
  if (!c0 || !s0) return;
  CHECK_EQ(c0->nic_index, uint16_t(0));
  CHECK_EQ(s0->nic_index, uint16_t(1));
  CHECK_EQ(c0->tap, uint16_t(1));
  CHECK_EQ(c0->mtu, uint16_t(9000));
  CHECK_EQ(c0->probe, ip(10, 0, 0, 2));
  CHECK(s0->probe.is_unset());
  CHECK_EQ(int(s0->mac.bytes[5]), 2);
  CHECK(c0->owned == std::vector<Address>{ip(10, 0, 0, 10)});  // one VIP, two services
  CHECK((s0->owned == std::vector<Address>{ip(10, 1, 0, 100), ip(10, 1, 0, 101)}));
}

TEST(snapshot_indexes_peer_addresses_but_owns_only_connected_addresses) {
  Config config = test_config();
  config.pools[0].peer_addresses = {ip(10, 1, 0, 102)};
  config.pools[0].addresses.push_back(ip(192, 0, 2, 7));   // routed to the node by BGP
  config.services[0].address = ip(198, 51, 100, 1);        // likewise
  Compiler compiler;
  const Snapshot& snap = compiler.compile(config);
  CHECK(snap.find_pool(ip(10, 1, 0, 102)) == &snap.pools[0]);
  CHECK(snap.find_pool(ip(192, 0, 2, 7)) == &snap.pools[0]);
  CHECK(snap.pools[0].holds(ip(10, 1, 0, 102)));
  CHECK(!snap.pools[0].holds(ip(10, 1, 0, 103)));
  const PortInfo* c0 = snap.port(0);
  const PortInfo* s0 = snap.port(2);
  CHECK(c0 && s0);
  if (!c0 || !s0) return;
  CHECK(c0->owned == std::vector<Address>{ip(10, 0, 0, 10)});   // dns's VIP; web's is routed
  CHECK((s0->owned == std::vector<Address>{ip(10, 1, 0, 100), ip(10, 1, 0, 101)}));
}

TEST(snapshot_routes_prefer_longest_prefix_then_connected) {
  Compiler compiler;
  const Snapshot& snap = compiler.compile(test_config());
  CHECK(same_egress(snap.route(ip(10, 1, 0, 5)), 2, ip(10, 1, 0, 5)));     // connected beats "shadow"
  CHECK(same_egress(snap.route(ip(10, 2, 3, 4)), 2, ip(10, 1, 0, 253)));   // /24 beats /16
  CHECK(same_egress(snap.route(ip(10, 2, 9, 9)), 2, ip(10, 1, 0, 254)));
  CHECK(same_egress(snap.route(ip(10, 0, 0, 77)), 0, ip(10, 0, 0, 77)));
  CHECK(same_egress(snap.route(ip(8, 8, 8, 8)), 0, ip(10, 0, 0, 1)));      // the gateway
  for (size_t i = 1; i < snap.routes.size(); ++i)
    CHECK(snap.routes[i - 1].prefix.length >= snap.routes[i].prefix.length);
  const Service* web = snap.find_service(ip(10, 0, 0, 10), 80, 6);
  if (!web) return;
  CHECK(same_egress(web->backends[1].egress, 2, ip(10, 1, 0, 253)));
  CHECK(same_egress(web->backends[2].egress, 0, ip(10, 0, 0, 1)));

  Config no_gateway = test_config();
  no_gateway.nics[0].gateway = Address();
  CHECK_EQ(compiler.compile(no_gateway).route(ip(8, 8, 8, 8)).port, kNoPort);
}

TEST(snapshot_id_map_takes_the_lowest_free_id) {
  IdMap ids(3);
  CHECK_EQ(ids.assign("a"), 0u);
  CHECK_EQ(ids.assign("b"), 1u);
  CHECK_EQ(ids.assign("c"), 2u);
  CHECK_EQ(ids.assign("b"), 1u);
  CHECK_EQ(ids.assign("d"), IdMap::kNoId);
  ids.begin_marking();
  ids.assign("a");
  ids.mark(2);   // "c", by number
  ids.sweep();
  CHECK_EQ(ids.find("b"), IdMap::kNoId);
  CHECK(!ids.name(1));
  CHECK_EQ(ids.find("c"), 2u);
  CHECK_EQ(ids.assign("d"), 1u);
  CHECK(ids.name(1) && *ids.name(1) == "d");
  ids.begin_marking();
  ids.sweep();
  CHECK_EQ(ids.assign("e"), 0u);
}

TEST(snapshot_ids_are_stable_and_reused_after_removal) {
  Compiler compiler;
  Config config = test_config();
  compiler.compile(config);
  uint32_t web = compiler.service_ids.find("web"), dns = compiler.service_ids.find("dns");
  uint32_t web_b = compiler.backend_ids.find(backend_key("web", "b"));
  std::swap(config.services[0], config.services[1]);  // order does not matter
  compiler.compile(config);
  CHECK_EQ(compiler.service_ids.find("web"), web);
  CHECK_EQ(compiler.service_ids.find("dns"), dns);
  CHECK_EQ(compiler.backend_ids.find(backend_key("web", "b")), web_b);

  config.services.pop_back();  // web goes
  const Snapshot& without_web = compiler.compile(config);
  CHECK_EQ(compiler.service_ids.find("web"), IdMap::kNoId);
  CHECK_EQ(compiler.backend_ids.find(backend_key("web", "b")), IdMap::kNoId);
  CHECK(!without_web.service_by_id[web]);
  CHECK(!without_web.backend_by_id[web_b]);

  config.services.push_back(test_config().services[0]);
  config.services.back().name = "api";
  const Snapshot& with_api = compiler.compile(config);
  CHECK_EQ(compiler.service_ids.find("api"), web);
  CHECK(with_api.service_by_id[web] == with_api.find_service(ip(10, 0, 0, 10), 80, 6));
}

TEST(snapshot_never_reuses_an_id_within_one_compile) {
  Compiler compiler;
  Config config = test_config();
  compiler.compile(config);
  uint32_t web = compiler.service_ids.find("web");
  uint32_t web_a = compiler.backend_ids.find(backend_key("web", "a"));
  config.services[0].name = "api";  // web replaced in one apply
  const Snapshot& snap = compiler.compile(config);
  CHECK(compiler.service_ids.find("api") != web);
  CHECK(compiler.backend_ids.find(backend_key("api", "a")) != web_a);
  CHECK(std::find(snap.ended_backends.begin(), snap.ended_backends.end(), web_a) != snap.ended_backends.end());
  CHECK_EQ(snap.ended_backends.size(), size_t(3));
}

TEST(snapshot_version_bumps_only_on_change) {
  Compiler compiler;
  Config config = test_config();
  auto versions = [&](const Snapshot& snap) {
    return std::make_pair(by_name(snap, compiler.service_ids, "web")->version,
                          by_name(snap, compiler.service_ids, "dns")->version);
  };
  auto first = versions(compiler.compile(config));
  CHECK(first.first != first.second);
  config.generation = 8;
  config.services[0].timeouts.tcp_established = 600;   // not a scheduling change
  CHECK(versions(compiler.compile(config)) == first);
  config.services[0].real_servers[1].weight = 5;
  auto weighted = versions(compiler.compile(config));
  CHECK(weighted.first != first.first);
  CHECK_EQ(weighted.second, first.second);
  config.services[1].scheduler = SchedulerKind::mh;
  auto rescheduled = versions(compiler.compile(config));
  CHECK_EQ(rescheduled.first, weighted.first);
  CHECK(rescheduled.second != first.second);
  config.services[1].real_servers.push_back(server("y", ip(10, 1, 0, 54), 53));
  CHECK(versions(compiler.compile(config)).second != rescheduled.second);
}

TEST(snapshot_rebuilds_only_the_schedulers_of_changed_services) {
  Compiler compiler;
  Config config = test_config();
  config.services[1].scheduler = SchedulerKind::mh;
  auto tables = [&](const Snapshot& snap) {
    return std::make_pair(by_name(snap, compiler.service_ids, "web")->scheduler.get(),
                          by_name(snap, compiler.service_ids, "dns")->scheduler.get());
  };
  auto first = tables(compiler.compile(config));
  config.services[0].timeouts.tcp_established = 600;
  CHECK(tables(compiler.compile(config)) == first);
  config.services[0].real_servers[0].weight = 3;
  auto second = tables(compiler.compile(config));
  CHECK(second.first != first.first);
  CHECK(second.second == first.second);   // dns's Maglev table is the one built first
}

TEST(snapshot_health_keeps_the_maglev_table_and_rebuilds_other_schedulers) {
  Compiler compiler;
  Config config = test_config();
  config.services[1].scheduler = SchedulerKind::mh;
  config.services[1].real_servers.push_back(server("y", ip(10, 1, 0, 54), 53));
  const Snapshot& first = compiler.compile(config);
  auto dns_table = by_name(first, compiler.service_ids, "dns")->scheduler;
  auto dns_version = by_name(first, compiler.service_ids, "dns")->version;
  auto web_table = by_name(first, compiler.service_ids, "web")->scheduler;
  config.services[1].real_servers[0].healthy = false;
  config.services[0].real_servers[0].healthy = false;
  const Snapshot& next = compiler.compile(config);
  const Service* dns = by_name(next, compiler.service_ids, "dns");
  CHECK(dns->scheduler == dns_table);                  // mh: the table leaves health out
  CHECK_EQ(dns->version, dns_version);
  CHECK(!dns->backends[0].healthy);
  CHECK(by_name(next, compiler.service_ids, "web")->scheduler != web_table);   // wrr: rebuilt without it
  CHECK(next.ended_backends.empty());                  // down is not disabled: sessions go on
}

TEST(snapshot_lists_ended_backends) {
  Compiler compiler;
  Config config = test_config();
  CHECK(compiler.compile(config).ended_backends.empty());
  uint32_t a = compiler.backend_ids.find(backend_key("web", "a"));
  uint32_t b = compiler.backend_ids.find(backend_key("web", "b"));
  uint32_t c = compiler.backend_ids.find(backend_key("web", "c"));
  uint32_t x = compiler.backend_ids.find(backend_key("dns", "x"));

  config.services[0].real_servers[0].weight = 0;       // a drains: sessions go on
  config.services[0].real_servers.erase(config.services[0].real_servers.begin() + 1);  // b removed
  config.services[0].real_servers[1].enabled = false;  // c disabled
  CHECK((compiler.compile(config).ended_backends == std::vector<uint32_t>{b, c}));
  CHECK(compiler.compile(config).ended_backends.empty());  // already ended

  config.services[0].real_servers[0].address = ip(10, 1, 0, 12);  // a now names another server
  CHECK(compiler.compile(config).ended_backends == std::vector<uint32_t>{a});

  config.services[1].enabled = false;  // a disabled service keeps its VIP but ends its sessions
  const Snapshot& snap = compiler.compile(config);
  CHECK(snap.ended_backends == std::vector<uint32_t>{x});
  const Service* dns = snap.find_service(ip(10, 0, 0, 10), 53, 17);
  CHECK(dns && !dns->enabled);
}

TEST(snapshot_refuses_missing_ports_and_exhausted_ids) {
  IdMap service_ids(kMaxServices), backend_ids(kMaxBackends);
  auto ports = test_ports();
  ports.erase("s0");
  bool threw = false;
  try {
    compile_snapshot(test_config(), ports, 1, service_ids, backend_ids, nullptr);
  } catch (const std::runtime_error& e) {
    threw = std::string(e.what()).find("s0") != std::string::npos;
  }
  CHECK(threw);

  IdMap one_service(1);
  threw = false;
  try {
    compile_snapshot(test_config(), test_ports(), 1, one_service, backend_ids, nullptr);
  } catch (const std::runtime_error& e) {
    threw = std::string(e.what()).find("dns") != std::string::npos;
  }
  CHECK(threw);
}
