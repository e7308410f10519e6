// Stable ids and the compilation of a Config into a Snapshot.
//
// Decisions worth knowing:
// - Ids are assigned for the whole new config before the ids of removed objects are freed,
//   so an id never changes owner within one compile: a worker that sees an id in
//   `ended_backends` knows it belonged to the removed object. A freed id is reused from the
//   next compile on. (Replacing every object of a full id space in one apply therefore fails.)
// - Service::version comes from one process-wide counter, bumped when a service's scheduler or
//   backends (ids, addresses, ports, weights, enabled) differ from the previous snapshot's;
//   otherwise the service keeps its version and shares its built Scheduler with the previous
//   snapshot, so a write rebuilds the tables of the services it changed and no others.
//   Unique versions mean a cursor left behind by a removed service can never match the
//   version of a new service that reuses its id.
// - Built services are immutable and held by shared_ptr: update_snapshot (snapshot_update.cc)
//   shares the unchanged ones with the next snapshot instead of copying them.
// - A disabled service stays indexed by VIP (and its VIP stays owned, answered by ARP) with
//   enabled=false, so the worker can refuse its new flows at once (RST / drop) instead of
//   treating them as unknown traffic. Its backends count as ended: their sessions are reset,
//   as for a disabled real server.
// - A backend whose address or port changed under the same name counts as ended too: its
//   sessions point at a server that is no longer configured.
#include <algorithm>
#include <atomic>
#include <stdexcept>

#include "scheduler.h"
#include "snapshot.h"
#include "snapshot_build.h"

namespace l4lb {

uint32_t IdMap::assign(const std::string& key) {
  auto known = ids_.find(key);
  if (known != ids_.end()) {
    mark(known->second);
    return known->second;
  }
  // Lowest free id: the next one when ids are dense (the common case, O(1)), else the first gap.
  uint32_t id = uint32_t(names_.size());
  if (!names_.empty() && names_.rbegin()->first != names_.size() - 1) {
    id = 0;
    for (const auto& entry : names_) {
      if (entry.first != id) break;
      ++id;
    }
  }
  if (id >= limit_) return kNoId;
  ids_.emplace(key, id);
  names_.emplace(id, key);
  mark(id);
  return id;
}

uint32_t IdMap::find(const std::string& key) const {
  auto it = ids_.find(key);
  return it == ids_.end() ? kNoId : it->second;
}

const std::string* IdMap::name(uint32_t id) const {
  auto it = names_.find(id);
  return it == names_.end() ? nullptr : &it->second;
}

void IdMap::sweep() {
  for (auto it = names_.begin(); it != names_.end();) {
    if (marks_[it->first] == epoch_) {
      ++it;
    } else {
      ids_.erase(it->second);
      it = names_.erase(it);
    }
  }
}

void IdMap::release(uint32_t id) {
  auto it = names_.find(id);
  if (it == names_.end()) return;
  ids_.erase(it->second);
  names_.erase(it);
}

namespace {

std::atomic<uint64_t> last_service_version{0};

const NicPorts& nic_ports(const std::map<std::string, NicPorts>& ports, const std::string& nic) {
  auto it = ports.find(nic);
  if (it == ports.end() || it->second.port == kNoPort) throw std::runtime_error("nic " + nic + " has no DPDK port");
  return it->second;
}

// The DPDK port of the NIC that `user` names, after checking the config has that NIC.
uint16_t port_of(const Config& config, const std::map<std::string, NicPorts>& ports, const std::string& nic,
                 const std::string& user) {
  for (const NicConfig& n : config.nics)
    if (n.name == nic) return nic_ports(ports, nic).port;
  throw std::runtime_error(user + " refers to unknown nic " + nic);
}

void build_ports(const Config& config, const std::map<std::string, NicPorts>& ports, Snapshot& snap) {
  for (size_t i = 0; i < config.nics.size(); ++i) {
    const NicConfig& nic = config.nics[i];
    const NicPorts& dpdk = nic_ports(ports, nic.name);
    if (dpdk.port >= snap.ports.size()) snap.ports.resize(dpdk.port + 1);
    PortInfo& info = snap.ports[dpdk.port];
    if (info.port != kNoPort) throw std::runtime_error("nic " + nic.name + " shares its DPDK port with another nic");
    info.port = dpdk.port;
    info.tap = dpdk.tap;
    info.nic_index = uint16_t(i);
    info.mac = dpdk.mac;
    info.mtu = nic.mtu;
    info.probe = nic.probe.length ? nic.probe.address : Address();
    info.probe6 = nic.probe6.length ? nic.probe6.address : Address();
  }
}

// Connected networks (next hop 0: the destination itself), configured routes, gateways;
// longest prefix first, and at equal length in that order of preference.
void build_routes(const Config& config, const std::map<std::string, NicPorts>& ports, Snapshot& snap) {
  struct Ranked {
    Route route;
    int preference;  // 0 connected, 1 configured route, 2 gateway
  };
  std::vector<Ranked> ranked;
  auto add = [&](const Prefix& prefix, uint16_t port, const Address& next_hop, int preference) {
    ranked.push_back({Route{prefix, Egress{port, next_hop}}, preference});
  };
  for (const NicConfig& nic : config.nics) {
    uint16_t port = nic_ports(ports, nic.name).port;
    for (const Prefix& network : nic.networks) add(network, port, Address(), 0);
    if (!nic.gateway.is_unset()) add(Prefix{nic.gateway.is_v4() ? Address::v4(0) : Address(), 0}, port, nic.gateway, 2);
  }
  for (const RouteConfig& r : config.routes) {
    add(r.prefix, port_of(config, ports, r.nic, "route " + r.name), r.via, 1);
  }
  std::stable_sort(ranked.begin(), ranked.end(), [](const Ranked& a, const Ranked& b) {
    if (a.route.prefix.length != b.route.prefix.length) return a.route.prefix.length > b.route.prefix.length;
    return a.preference < b.preference;
  });
  snap.routes.reserve(ranked.size());
  for (const Ranked& r : ranked) snap.routes.push_back(r.route);
}

void build_pools(const Config& config, const std::map<std::string, NicPorts>& ports, Snapshot& snap) {
  snap.pools.reserve(config.pools.size());
  for (const PoolConfig& p : config.pools) {
    Pool pool;
    pool.id = uint32_t(snap.pools.size());
    pool.port = port_of(config, ports, p.nic, "pool " + p.name);
    pool.addresses = p.addresses;
    pool.peer_addresses = p.peer_addresses;
    pool.port_min = p.port_min;
    pool.port_max = p.port_max;
    snap.pools.push_back(std::move(pool));
  }
}

// Whether the service needs a new scheduler (and its workers new scheduler state). Health
// counts for every scheduler but mh, whose table leaves it out (scheduler.cc): a health
// transition of an mh service keeps its Maglev table. rr, wrr, lc and wlc keep each server's
// maxConnections in their lists: a limit change rebuilds every kind (limits change rarely).
bool scheduling_changed(const Service& now, const Service* before) {
  if (!before || before->scheduler_kind != now.scheduler_kind || before->backends.size() != now.backends.size())
    return true;
  bool health_counts = now.scheduler_kind != SchedulerKind::mh;
  for (size_t i = 0; i < now.backends.size(); ++i) {
    const Backend &a = now.backends[i], &b = before->backends[i];
    if (a.id != b.id || a.address != b.address || a.port != b.port || a.weight != b.weight || a.enabled != b.enabled ||
        a.max_connections != b.max_connections || (health_counts && a.healthy != b.healthy))
      return true;
  }
  return false;
}

}  // namespace

uint32_t assign_or_throw(IdMap& ids, const std::string& key, const char* what) {
  uint32_t id = ids.assign(key);
  if (id == IdMap::kNoId) throw std::runtime_error(std::string("no free ") + what + " id left for " + key);
  return id;
}

std::shared_ptr<const Service> build_service(const Config& config, const ServiceConfig& s, uint32_t id,
                                             IdMap& backend_ids, const std::map<std::string, NicPorts>& ports,
                                             const Snapshot& snap, const Service* before) {
  auto service = std::make_shared<Service>();
  static_cast<ServiceSettings&>(*service) = s;   // settings go through as configured
  service->id = id;
  service->address = s.address;
  service->port = s.port;
  service->protocol = s.protocol;
  service->in_port = port_of(config, ports, s.nic, "service " + s.name);
  auto pool = std::find_if(config.pools.begin(), config.pools.end(), [&](const PoolConfig& p) { return p.name == s.pool; });
  if (pool == config.pools.end()) throw std::runtime_error("service " + s.name + " refers to unknown pool " + s.pool);
  service->pool = uint32_t(pool - config.pools.begin());
  service->scheduler_kind = s.scheduler;
  service->access = AccessList(s.allow, s.deny);
  service->backends.reserve(s.real_servers.size());
  for (const RealServerConfig& rs : s.real_servers) {
    Backend b;
    b.id = assign_or_throw(backend_ids, backend_key(s.name, rs.name), "real server");
    b.address = rs.address;
    b.port = rs.port;
    b.weight = rs.weight;
    b.enabled = rs.enabled;
    b.healthy = rs.healthy;
    b.max_connections = rs.max_connections;
    b.egress = snap.route(rs.address);  // port kNoPort when unreachable: the worker drops
    service->backends.push_back(b);
  }
  if (scheduling_changed(*service, before)) {
    service->scheduler = Scheduler::build(service->scheduler_kind, service->backends);
    service->version = ++last_service_version;
  } else {
    service->scheduler = before->scheduler;   // same backends, same table: only this service's writes rebuild it
    service->version = before->version;
  }
  return service;
}

void add_ended_backends(const Service& was, const Snapshot& now, std::vector<uint32_t>& ended) {
  if (!was.enabled) return;
  const Service* owner = now.service_by_id[was.id];
  for (const Backend& b : was.backends) {
    if (!b.enabled) continue;
    const Backend* is = now.backend_by_id[b.id];
    if (!is || !is->enabled || !owner || !owner->enabled || is->address != b.address || is->port != b.port)
      ended.push_back(b.id);
  }
}

namespace {

// Whether `address` lies in a network connected to `port` (routes with no next hop).
bool connected(const Snapshot& snap, uint16_t port, const Address& address) {
  for (const Route& r : snap.routes)
    if (r.egress.port == port && r.egress.next_hop.is_unset() && r.covers(address, address.is_v4())) return true;
  return false;
}

}  // namespace

bool Pool::holds(const Address& address) const {
  return std::find(addresses.begin(), addresses.end(), address) != addresses.end() ||
         std::find(peer_addresses.begin(), peer_addresses.end(), address) != peer_addresses.end();
}

void index_owned(Snapshot& snap) {
  for (PortInfo& info : snap.ports) info.owned.clear();
  auto own = [&](uint16_t port, const Address& address) {
    if (connected(snap, port, address)) snap.ports[port].owned.push_back(address);
  };
  for (const auto& s : snap.services) own(s->in_port, s->address);
  for (const Pool& p : snap.pools)
    for (const Address& address : p.addresses) own(p.port, address);
  for (PortInfo& info : snap.ports) {
    std::sort(info.owned.begin(), info.owned.end());
    info.owned.erase(std::unique(info.owned.begin(), info.owned.end()), info.owned.end());
  }
}

void index_local_addresses(Snapshot& snap) {
  for (const Pool& pool : snap.pools) {
    for (const Address& address : pool.addresses) snap.by_local_address[address] = &pool;
    for (const Address& address : pool.peer_addresses) snap.by_local_address.emplace(address, &pool);
  }
}

void index_service(Snapshot& snap, const Service& s, const IdMap& service_ids) {
  if (!snap.by_vip.emplace(ServiceKey{s.address, s.port, uint8_t(s.protocol)}, &s).second)
    throw std::runtime_error("service " + *service_ids.name(s.id) + " uses a VIP, port and protocol taken by another");
  snap.service_by_id[s.id] = &s;
  for (const Backend& b : s.backends) snap.backend_by_id[b.id] = &b;
}

std::unique_ptr<Snapshot> compile_snapshot(const Config& config, const std::map<std::string, NicPorts>& ports,
                                           uint16_t workers, IdMap& service_ids, IdMap& backend_ids,
                                           const Snapshot* previous) {
  auto snap = std::make_unique<Snapshot>();
  snap->generation = config.generation;
  snap->sync_events = config.sync.enabled && !config.sync.backup;
  snap->backup = config.sync.backup;
  snap->workers = workers;
  build_ports(config, ports, *snap);
  build_routes(config, ports, *snap);
  build_pools(config, ports, *snap);

  service_ids.begin_marking();
  backend_ids.begin_marking();
  snap->services.reserve(config.services.size());
  for (const ServiceConfig& s : config.services) {
    uint32_t id = assign_or_throw(service_ids, s.name, "service");
    const Service* before = previous && id < previous->service_by_id.size() ? previous->service_by_id[id] : nullptr;
    snap->services.push_back(build_service(config, s, id, backend_ids, ports, *snap, before));
  }

  // Indexes, now that every service is built.
  index_local_addresses(*snap);
  index_owned(*snap);
  snap->service_by_id.assign(kMaxServices, nullptr);
  snap->backend_by_id.assign(kMaxBackends, nullptr);
  for (const auto& s : snap->services) index_service(*snap, *s, service_ids);
  if (previous) {
    for (const auto& s : previous->services) {
      add_ended_backends(*s, *snap, snap->ended_backends);
      snap->services_gone |= snap->service_by_id[s->id] == nullptr;
    }
    std::sort(snap->ended_backends.begin(), snap->ended_backends.end());
  }

  service_ids.sweep();
  backend_ids.sweep();
  return snap;
}

}  // namespace l4lb
