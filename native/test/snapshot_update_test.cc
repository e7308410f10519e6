// update_snapshot: the services it is given are built, every other one is shared with the
// previous snapshot; removed services end their sessions and free their ids; a refusal
// leaves the ids as they were.
#include <algorithm>
#include <stdexcept>

#include "check.h"
#include "snapshot.h"
#include "snapshot_fixture.h"

using namespace l4lb;
using namespace snapshot_fixture;

namespace {

// The config update_snapshot is given: NICs, routes and pools, without services.
Config running_part(const Config& config) {
  Config running = config;
  running.services.clear();
  return running;
}

}  // namespace

TEST(snapshot_update_shares_services_that_did_not_change) {
  Compiler compiler;
  Config config = test_config();
  const Snapshot& first = compiler.compile(config);
  const Service* web_before = by_name(first, compiler.service_ids, "web");
  const Service* dns_before = by_name(first, compiler.service_ids, "dns");
  ServiceConfig dns = config.services[1];
  dns.real_servers[0].weight = 9;
  auto next = update_snapshot(first, running_part(config), {dns}, {}, test_ports(), compiler.service_ids,
                              compiler.backend_ids);
  const Service* web = by_name(*next, compiler.service_ids, "web");
  CHECK(web == web_before);                             // the same object, not a copy
  CHECK(next->find_service(ip(10, 0, 0, 10), 80, 6) == web);
  const Service* changed = by_name(*next, compiler.service_ids, "dns");
  CHECK(changed != dns_before);
  CHECK_EQ(changed->backends[0].weight, 9u);
  CHECK_EQ(changed->backends[0].id, dns_before->backends[0].id);
  CHECK(changed->version != dns_before->version);
  CHECK(next->backend_by_id[changed->backends[0].id] == &changed->backends[0]);
  CHECK(next->find_service(ip(10, 0, 0, 10), 53, 17) == changed);
  CHECK_EQ(next->services.size(), size_t(2));
  CHECK(next->ended_backends.empty());
  CHECK(!next->services_gone);
  CHECK(next->find_pool(ip(10, 1, 0, 100)) == &next->pools[0]);
  CHECK(next->ports[0].owned == first.ports[0].owned);
  CHECK(first.find_service(ip(10, 0, 0, 10), 53, 17) == dns_before);   // the previous one is untouched
}

TEST(snapshot_update_adds_and_removes_services) {
  Compiler compiler;
  Config config = test_config();
  const Snapshot& first = compiler.compile(config);
  uint32_t dns_id = compiler.service_ids.find("dns");
  uint32_t dns_x = compiler.backend_ids.find(backend_key("dns", "x"));
  ServiceConfig api = config.services[0];
  api.name = "api";
  api.address = ip(10, 0, 0, 20);
  auto next = update_snapshot(first, running_part(config), {api}, {"dns"}, test_ports(), compiler.service_ids,
                              compiler.backend_ids);
  CHECK(compiler.service_ids.find("api") != dns_id);   // no id changes owner within one update
  CHECK(compiler.backend_ids.find(backend_key("api", "a")) != dns_x);
  CHECK_EQ(compiler.service_ids.find("dns"), IdMap::kNoId);
  CHECK_EQ(compiler.backend_ids.find(backend_key("dns", "x")), IdMap::kNoId);
  CHECK(!next->service_by_id[dns_id]);
  CHECK(!next->backend_by_id[dns_x]);
  CHECK(!next->find_service(ip(10, 0, 0, 10), 53, 17));
  CHECK(next->find_service(ip(10, 0, 0, 20), 80, 6) == by_name(*next, compiler.service_ids, "api"));
  CHECK((next->ended_backends == std::vector<uint32_t>{dns_x}));
  CHECK(next->services_gone);
  CHECK((next->ports[0].owned == std::vector<Address>{ip(10, 0, 0, 10), ip(10, 0, 0, 20)}));
  CHECK_EQ(next->services.size(), size_t(2));

  // The freed ids are taken again by the next update, lowest first.
  ServiceConfig dns = test_config().services[1];
  dns.name = "ntp";
  auto after = update_snapshot(*next, running_part(config), {dns}, {}, test_ports(), compiler.service_ids,
                               compiler.backend_ids);
  CHECK_EQ(compiler.service_ids.find("ntp"), dns_id);
  CHECK(after->service_by_id[dns_id] == after->find_service(ip(10, 0, 0, 10), 53, 17));
}

TEST(snapshot_update_ends_removed_and_moved_backends) {
  Compiler compiler;
  Config config = test_config();
  const Snapshot& first = compiler.compile(config);
  uint32_t b = compiler.backend_ids.find(backend_key("web", "b"));
  uint32_t c = compiler.backend_ids.find(backend_key("web", "c"));
  ServiceConfig web = config.services[0];
  web.real_servers.erase(web.real_servers.begin() + 1);   // b removed
  web.real_servers[1].port = 8081;                        // c now names another server
  web.real_servers[0].weight = 0;                         // a drains: its sessions go on
  auto next = update_snapshot(first, running_part(config), {web}, {}, test_ports(), compiler.service_ids,
                              compiler.backend_ids);
  CHECK((next->ended_backends == std::vector<uint32_t>{b, c}));
  CHECK_EQ(compiler.backend_ids.find(backend_key("web", "b")), IdMap::kNoId);
  CHECK_EQ(compiler.backend_ids.find(backend_key("web", "c")), c);
  CHECK(!next->services_gone);
}

TEST(snapshot_update_refused_changes_no_id) {
  Compiler compiler;
  Config config = test_config();
  const Snapshot& first = compiler.compile(config);
  ServiceConfig clash = config.services[0];
  clash.name = "clash";                                   // web's VIP, port and protocol
  bool threw = false;
  try {
    update_snapshot(first, running_part(config), {clash}, {"dns"}, test_ports(), compiler.service_ids,
                    compiler.backend_ids);
  } catch (const std::runtime_error& e) {
    threw = std::string(e.what()).find("clash") != std::string::npos;
  }
  CHECK(threw);
  CHECK_EQ(compiler.service_ids.find("clash"), IdMap::kNoId);
  CHECK_EQ(compiler.backend_ids.find(backend_key("clash", "a")), IdMap::kNoId);
  CHECK(compiler.service_ids.find("dns") != IdMap::kNoId);
  CHECK(compiler.backend_ids.find(backend_key("dns", "x")) != IdMap::kNoId);
}
