// The desired state of the data plane, as the control plane hands it over: a whole
// configuration (Dataplane::apply) or the services that changed (Dataplane::update_services),
// already validated as a whole by the store. Compiled into a Snapshot for the workers
// (snapshot.h). Each struct is one API object; each field says which API field it carries
// (openapi.yaml) when the name differs, and the addon's conversion is native/binding/convert.cc.
//
// Addresses are of either family (address.h); names are the API's resource names.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "address.h"

namespace l4lb {

// A NIC (/api/v1/nics).
struct NicConfig {
  std::string name;
  std::string device;             // PCI address, or vdev args ("net_af_packet0,iface=c0"); allow-listed by the store
  std::vector<Prefix> networks;   // directly connected
  Address gateway;                // unset: none
  Prefix probe;                   // probeAddress: kernel side of the exception path, IPv4; length 0: none
  Prefix probe6;                  // its IPv6 twin (health checks and BGP over IPv6); length 0: none
  uint16_t mtu = 1500;
};

// A static route (/api/v1/routes).
struct RouteConfig {
  std::string name;
  Prefix prefix;
  Address via;
  std::string nic;
};

// A local address pool (/api/v1/local-address-pools): the FullNAT source addresses.
struct PoolConfig {
  std::string name;
  std::string nic;                // the NIC towards the real servers
  std::vector<Address> addresses; // this node's own: handed out and answered by ARP/ND
  uint16_t port_min = 1024;       // portRange.min
  uint16_t port_max = 65535;      // portRange.max
  // Not in the API object: the same pool's addresses on cluster peers (multi-active), learnt
  // from their hellos. Their sessions' replies may reach this node (the covering route after a
  // peer died), so they are looked up like own addresses, but never handed out or answered.
  std::vector<Address> peer_addresses;
};

enum class Protocol : uint8_t { tcp = 6, udp = 17 };
enum class SchedulerKind : uint8_t { rr, wrr, lc, wlc, sh, mh };
enum class ClientAddress : uint8_t { none, toa, proxy_v1, proxy_v2 };

// Idle timeouts in seconds, per TCP state and for UDP (DPVS defaults).
struct Timeouts {
  uint32_t tcp_syn_sent = 30;
  uint32_t tcp_syn_recv = 30;
  uint32_t tcp_established = 90;
  uint32_t tcp_fin_wait = 7;
  uint32_t tcp_close_wait = 7;
  uint32_t tcp_last_ack = 7;
  uint32_t tcp_time_wait = 7;
  uint32_t tcp_close = 3;
  uint32_t udp = 300;
};

// A real server (/api/v1/virtual-services/{vs}/real-servers), inside its service.
struct RealServerConfig {
  std::string name;
  Address address;
  uint16_t port = 0;     // the API fills it from the service's port when left out
  uint32_t weight = 1;   // 0 drains: open sessions continue, no new ones
  bool enabled = true;   // false ends its sessions (RST both ways)
  bool healthy = true;   // not in the API object: the health checker's verdict (status.health of
                         // its egress NIC); false takes no new sessions, as weight 0 would
  uint32_t max_connections = 0;   // maxConnections: this node's sessions it takes at most; 0: unlimited
};

// clientRateLimit: new connections per client address and service (rate_limit.h).
struct ClientRateLimit {
  uint32_t connections_per_second = 0;   // 0: no limit
  uint32_t burst = 0;
};

// The settings of a virtual service (/api/v1/virtual-services) that its compiled form
// (Service, snapshot.h) carries as they are, for the workers. A field added here is read in
// one line of the addon's conversion (service_settings in native/binding/convert.cc) under
// its API name and used by the worker code that needs it: nothing else changes
// (docs/architecture.md, "Adding a field to a virtual service").
struct ServiceSettings {
  ClientAddress client_address = ClientAddress::none;   // clientAddress: none, toa, proxy-protocol-v1/v2
  Timeouts timeouts;     // tcpFinWait covers FIN_WAIT, CLOSE_WAIT and LAST_ACK
  bool sync = true;      // its sessions are replicated to peers
  bool enabled = true;   // false: no new sessions, open ones reset
  ClientRateLimit client_rate_limit;   // clientRateLimit; absent: none
};

// A virtual service (/api/v1/virtual-services) with its real servers: what identifies and
// places it (compiled into indexes, ports and a scheduler), then its settings.
struct ServiceConfig : ServiceSettings {
  std::string name;
  Address address;       // the VIP
  uint16_t port = 0;
  Protocol protocol = Protocol::tcp;
  std::string nic;       // client side
  std::string pool;      // localAddressPool: local addresses towards the real servers
  SchedulerKind scheduler = SchedulerKind::wlc;
  std::vector<RealServerConfig> real_servers;
  // accessControl: who may open sessions, compiled into an AccessList (access_list.h).
  std::vector<Prefix> allow, deny;
};

// Session sync (docs/sync.md): whether workers write events for sessions of services with
// `sync` on, and whether this node is a backup (holds peer sessions, forwards nothing, answers
// no ARP for VIPs and local addresses). A backup writes no events.
struct SyncSettings {
  bool enabled = false;
  bool backup = false;
};

struct Config {
  uint64_t generation = 0;
  SyncSettings sync;
  std::vector<NicConfig> nics;
  std::vector<RouteConfig> routes;
  std::vector<PoolConfig> pools;
  std::vector<ServiceConfig> services;
};

}  // namespace l4lb
