// The immutable tables the workers forward from. The control thread compiles a Config into a
// Snapshot (snapshot.cc), publishes it with one atomic store, and frees the previous one only
// after every worker has passed a burst boundary since (dataplane.cc). Workers never write here.
//
// Identity: services and real servers carry stable small ids (assigned by name, kept across
// snapshots, reused only after the object is gone) so sessions, counters and per-worker
// scheduler state can refer to them by index across configuration changes.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "access_list.h"
#include "config.h"

namespace l4lb {

constexpr uint32_t kMaxServices = 4096;
constexpr uint32_t kMaxBackends = 65536;
constexpr uint16_t kNoPort = 0xffff;

class Scheduler;

struct MacAddress {
  uint8_t bytes[6] = {};
};

// Where a packet leaves: DPDK port and the next hop (of the packet's family) whose MAC it needs.
struct Egress {
  uint16_t port = kNoPort;
  Address next_hop;
};

struct PortInfo {
  uint16_t port = kNoPort;       // DPDK port id of the NIC
  uint16_t tap = kNoPort;        // DPDK port id of its net_tap exception port; kNoPort: none
  uint16_t nic_index = 0;        // into Snapshot::nics
  MacAddress mac;
  uint16_t mtu = 1500;
  Address probe;                 // the kernel side's IPv4 address (unset: none); frames for it go to the tap
  Address probe6;                // its IPv6 address (unset: none); frames and solicitations for it go to the tap
  std::vector<Address> owned;    // VIPs and own local addresses in this port's networks: answered by ARP/ND
};

struct Pool {
  uint32_t id = 0;               // index into Snapshot::pools
  uint16_t port = kNoPort;       // DPDK port towards the real servers
  std::vector<Address> addresses;        // this node's own (PoolConfig::addresses)
  std::vector<Address> peer_addresses;   // cluster peers' (PoolConfig::peer_addresses)
  uint16_t port_min = 1024;
  uint16_t port_max = 65535;

  bool holds(const Address& address) const;     // own or a peer's
};

struct Backend {
  uint32_t id = 0;               // stable, < kMaxBackends
  Address address;
  uint16_t port = 0;
  uint32_t weight = 0;           // configured: 0 takes no new sessions
  bool enabled = true;           // false: its sessions are reset
  bool healthy = true;           // false: down by health checks, no new sessions (open ones go on)
  uint32_t max_connections = 0;  // this node's sessions at most (ServerSessions); 0: unlimited
  Egress egress;                 // towards the real server
};

// A compiled virtual service: its settings as configured (config.h), then what compiling
// placed and built for it.
struct Service : ServiceSettings {
  uint32_t id = 0;               // stable, < kMaxServices
  uint64_t version = 0;          // changes whenever its backends or scheduler change
  Address address;
  uint16_t port = 0;
  Protocol protocol = Protocol::tcp;
  uint16_t in_port = kNoPort;    // DPDK port of the client-side NIC
  uint32_t pool = 0;             // index into Snapshot::pools (no pointer: a Service outlives
                                 // the snapshot it was compiled in, shared by the next ones)
  SchedulerKind scheduler_kind = SchedulerKind::wlc;
  std::vector<Backend> backends;
  // Immutable, and shared with the previous snapshot while the backends it was built from are
  // unchanged (a Maglev table is 65537 entries: rebuilding one per service per write would
  // make every write cost O(services)). Per-worker cursors live in Worker.
  std::shared_ptr<const Scheduler> scheduler;
  AccessList access;             // accessControl, asked before a new session (flow.cc)
};

struct Route {
  Route(const Prefix& p, const Egress& e) : prefix(p.network()), egress(e), mask(p.mask()), v4(p.address.is_v4()) {}

  // Whether `a` (of family `a_v4`) lies in the route's prefix. Cost: a compare and two masked
  // compares, the mask computed once per snapshot.
  bool covers(const Address& a, bool a_v4) const {
    return a_v4 == v4 && ((a.high ^ prefix.address.high) & mask.high) == 0 && ((a.low ^ prefix.address.low) & mask.low) == 0;
  }

  Prefix prefix;   // host bits cleared
  Egress egress;
  Address mask;
  bool v4;
};

// Key of the virtual-service index.
struct ServiceKey {
  Address address;
  uint16_t port = 0;
  uint8_t protocol = 0;
  bool operator==(const ServiceKey& o) const {
    return address == o.address && port == o.port && protocol == o.protocol;
  }
};
struct ServiceKeyHash {
  size_t operator()(const ServiceKey& k) const {
    return AddressHash{}(k.address) ^ (size_t(k.port) << 8 | k.protocol) * 0x9e3779b97f4a7c15ull;
  }
};

struct Snapshot {
  uint64_t generation = 0;
  uint16_t workers = 1;
  bool sync_events = false;              // sync enabled and not backup: workers write events
  bool backup = false;                   // forward nothing, answer no ARP for owned addresses
  std::vector<PortInfo> ports;           // indexed by DPDK port id (kNoPort entries unused)
  // Shared, immutable: a snapshot that changes some services shares every other one with the
  // snapshot before it, so a real-server write costs that service, not all of them.
  std::vector<std::shared_ptr<const Service>> services;
  std::vector<Pool> pools;
  std::vector<Route> routes;             // longest prefix first; connected networks included
  std::unordered_map<ServiceKey, const Service*, ServiceKeyHash> by_vip;
  std::unordered_map<Address, const Pool*, AddressHash> by_local_address;   // own and peers' addresses
  std::vector<const Service*> service_by_id;             // kMaxServices entries, null when unused
  std::vector<const Backend*> backend_by_id;             // kMaxBackends entries, null when unused
  std::vector<uint32_t> ended_backends;  // ids live in the previous snapshot, removed or disabled now
  bool services_gone = false;            // a service of the previous snapshot is not in this one

  const PortInfo* port(uint16_t id) const { return id < ports.size() && ports[id].port == id ? &ports[id] : nullptr; }
  const Service* find_service(const Address& vip, uint16_t port, uint8_t proto) const {
    auto it = by_vip.find(ServiceKey{vip, port, proto});
    return it == by_vip.end() ? nullptr : it->second;
  }
  const Pool* find_pool(const Address& local) const {
    auto it = by_local_address.find(local);
    return it == by_local_address.end() ? nullptr : it->second;
  }
  // Longest-prefix match over connected networks, routes and gateways; port kNoPort: unreachable.
  // A destination of one family matches only routes of that family.
  Egress route(const Address& destination) const {
    const bool v4 = destination.is_v4();
    for (const Route& r : routes)
      if (r.covers(destination, v4))
        return Egress{r.egress.port, r.egress.next_hop.is_unset() ? destination : r.egress.next_hop};
    return Egress{};
  }
};

// Which worker owns a local port: return traffic for (local address, lport) goes to it.
// Peers that sync sessions must agree on this (same worker count, same rule).
inline uint16_t owner_of_local_port(uint16_t lport, uint16_t workers) { return lport % workers; }

// Stable small ids by name, kept by the control thread across snapshots. A compile marks the
// ids it uses (assign() marks too) between begin_marking() and sweep(), which frees the rest,
// so a compile that reuses a service marks its ids by number without building their names.
// A freed id is reused only after every live id below it is taken (lowest free first).
class IdMap {
 public:
  explicit IdMap(uint32_t limit) : limit_(limit), marks_(limit, 0) {}
  // The id of `key`, assigning the lowest free one; kNoId when all `limit` are taken. Marks it.
  uint32_t assign(const std::string& key);
  uint32_t find(const std::string& key) const;   // kNoId when unknown
  const std::string* name(uint32_t id) const;    // null when unused
  void begin_marking() { ++epoch_; }
  void mark(uint32_t id) { marks_[id] = epoch_; }
  void sweep();                                  // frees every id not marked since begin_marking()
  void release(uint32_t id);                     // frees one id at once
  static constexpr uint32_t kNoId = 0xffffffff;

 private:
  uint32_t limit_;
  std::map<std::string, uint32_t> ids_;
  std::map<uint32_t, std::string> names_;
  std::vector<uint64_t> marks_;   // by id: the epoch that last marked it
  uint64_t epoch_ = 1;
};

// Key of a real server in the backend IdMap.
inline std::string backend_key(const std::string& service, const std::string& server) {
  return service + "/" + server;
}

// What the control thread knows of each NIC's open DPDK ports.
struct NicPorts {
  uint16_t port = kNoPort;
  uint16_t tap = kNoPort;
  MacAddress mac;
};

// Compiles a validated Config into the tables workers read: services indexed by VIP, pools by
// local address, routes (connected networks, routes, gateways) longest prefix first, each
// backend's egress, schedulers, and `ended_backends` relative to `previous`. Assigns ids in
// `services`/`backends` (and frees those of removed objects). Throws std::runtime_error when
// an id space is exhausted or a NIC has no port. A service whose backends are unchanged keeps
// the scheduler (Maglev table) it had in `previous`.
std::unique_ptr<Snapshot> compile_snapshot(const Config& config, const std::map<std::string, NicPorts>& ports,
                                           uint16_t workers, IdMap& services, IdMap& backends,
                                           const Snapshot* previous);

// `previous` with the services of `changed` compiled in (replacing those of the same name, or
// added) and those named in `removed` taken out (snapshot_update.cc). `running` is the config
// `previous` was compiled from as far as NICs, routes and pools go: those stay as they are.
// Every other service is shared with `previous`, neither copied nor rebuilt. Cost: the changed
// services' real servers, plus copies of the fixed-size id indexes (~0.5 MB memcpy) and of
// the VIP index; the owned-address lists only when a VIP is added, moved or removed.
std::unique_ptr<Snapshot> update_snapshot(const Snapshot& previous, const Config& running,
                                          const std::vector<ServiceConfig>& changed,
                                          const std::vector<std::string>& removed,
                                          const std::map<std::string, NicPorts>& ports, IdMap& services,
                                          IdMap& backends);

}  // namespace l4lb
