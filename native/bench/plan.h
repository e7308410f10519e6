// How the benchmark network is numbered, once per row of the report: IPv4 FullNAT, IPv6
// FullNAT, and NAT64 (an IPv6 VIP in front of the IPv4 servers). All three are services of one
// configuration, as a dual-stack node runs them; each row is measured on a worker of its own.
//
//   IPv4   clients 198.18.0.0/15     → VIP 10.0.0.100:80       locals 10.1.2.x      → servers 10.1.1.1-4:8080
//   IPv6   clients 2001:db8:c000::/96 → VIP 2001:db8::100:80   locals 2001:db8:1:2::x → servers 2001:db8:1::1-4:8080
//   NAT64  clients 2001:db8:c000::/96 → VIP 2001:db8::100:81   locals 10.1.2.x      → servers 10.1.1.1-4:8080
//   IPv4 allow-list  as IPv4, VIP port 82, with a 50,000-entry allow list holding every client
//
// Clients sit behind a gateway (10.0.0.1, 2001:db8::1; 198.18.0.0/15 is the range RFC 2544
// sets aside for benchmarks), so a million of them need one neighbour entry, as behind a real
// router. Addresses are counted in their last 32 bits (where an IPv4 address lies too, address.h),
// so a flow names its ends by number and one piece of code serves every family.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "address.h"

namespace bench {

constexpr uint32_t kClientAddresses = 1u << 17;   // the whole 198.18.0.0/15; as many IPv6 clients
constexpr uint16_t kServers = 4;
constexpr uint16_t kServerPort = 8080;
constexpr uint16_t kLocalPortMin = 1024, kLocalPortMax = 65535;

struct Plan {
  std::string name;            // in the report: "IPv4", "IPv6", "NAT64"
  std::string key;             // in the JSON and in names of rings and services
  l4lb::Address client_base;   // kClientAddresses clients from here
  l4lb::Address gateway;       // the clients' router, on the client side
  l4lb::Address vip;
  uint16_t vip_port = 0;
  l4lb::Address first_server;  // kServers real servers from here, on port kServerPort
  l4lb::Address first_local;   // the local address pool, counted from here
  std::string pool;            // its name: NAT64 shares the IPv4 pool
  // Entries of its service's allow list (accessControl): the first allow_entries - 1 clients
  // as /32s and the whole client range, so each new session costs one or two probes.
  uint32_t allow_entries = 0;
};

// IPv4 first: the row the targets apply to and the others are compared with.
const std::vector<Plan>& plans();
const Plan& ipv4_plan();
const Plan& ipv6_plan();

// An address of the benchmark's own numbering, from its text; throws on a typo.
l4lb::Address address(const char* text);

// The n-th address counted from `base`.
l4lb::Address nth(const l4lb::Address& base, uint32_t n);
// The n with nth(base, n) == a; past every count of the plan when `a` is not counted from base.
uint32_t index_of(const l4lb::Address& a, const l4lb::Address& base);

}  // namespace bench
