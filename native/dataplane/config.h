// The desired state of the data plane, as the control plane hands it over: one whole
// configuration per apply (never a delta), already validated as a whole by the store.
// Dataplane::apply() compiles it into a Snapshot for the workers (snapshot.h).
//
// Addresses are IPv4 in host byte order; names are the API's resource names.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace l4lb {

using Ipv4 = uint32_t;

struct Prefix {
  Ipv4 address = 0;
  uint8_t length = 0;  // 0..32
};

struct NicConfig {
  std::string name;
  std::string device;             // PCI address, or vdev args ("net_af_packet0,iface=c0")
  std::vector<Prefix> networks;   // directly connected
  Ipv4 gateway = 0;               // 0: none
  Prefix probe;                   // kernel side of the exception path; length 0: none
  uint16_t mtu = 1500;
};

struct RouteConfig {
  std::string name;
  Prefix prefix;
  Ipv4 via = 0;
  std::string nic;
};

struct PoolConfig {
  std::string name;
  std::string nic;
  std::vector<Ipv4> addresses;
  uint16_t port_min = 1024;
  uint16_t port_max = 65535;
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

struct RealServerConfig {
  std::string name;
  Ipv4 address = 0;
  uint16_t port = 0;
  uint32_t weight = 1;   // 0 drains: open sessions continue, no new ones
  bool enabled = true;   // false ends its sessions (RST both ways)
};

struct ServiceConfig {
  std::string name;
  Ipv4 address = 0;
  uint16_t port = 0;
  Protocol protocol = Protocol::tcp;
  std::string nic;       // client side
  std::string pool;      // local addresses towards the real servers
  SchedulerKind scheduler = SchedulerKind::wlc;
  ClientAddress client_address = ClientAddress::none;
  Timeouts timeouts;
  bool sync = true;
  bool enabled = true;
  std::vector<RealServerConfig> real_servers;
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
