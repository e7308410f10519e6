// Per-worker counters: plain 64-bit stores by the owning worker only, no atomics on the fast
// path; readers sum across workers (an aligned 64-bit load never tears on x86-64).
#pragma once

#include <cstdint>

#include "burst_histogram.h"
#include "snapshot.h"
#include "sync_record.h"

namespace l4lb {

// Why a packet was dropped. Keep names in sync with drop_reason_name().
enum class Drop : uint8_t {
  malformed,        // truncated or inconsistent headers
  not_ip,           // neither IPv4, IPv6 nor ARP
  no_service,       // addressed to us but matches no service or session
  no_backend,       // new flow, but no real server takes new sessions
  table_full,       // new flow, session table full
  no_local_port,    // new flow, local port slice exhausted
  no_route,         // no egress towards the destination
  neighbour_queue,  // next hop unresolved and its queue full
  redirect_full,    // the owner worker's ring was full
  tx_full,          // the port did not take the packet
  fragment,         // fragments (IPv4, or IPv6 with a fragment header) are not reassembled
  ttl,              // TTL expired
  client_address,   // a UDP datagram that cannot take its PROXY header within the MTU
  backup,           // this node is a sync backup: it forwards nothing
  extension_header, // IPv6 with a hop-by-hop, routing, destination-options or AH/ESP header
  translation,      // NAT64 could not rebuild the header (nat64.h says when)
  access_list,      // new flow from a client the service's allow/deny lists refuse (per service: refused)
  server_limit,     // new flow, but every real server that could take it is at its maxConnections
  rate_limited,     // new flow over its client's clientRateLimit (per service: rate_limited)
  count_
};

inline const char* drop_reason_name(Drop d) {
  static const char* names[] = {"malformed", "not_ip",  "no_service",      "no_backend",
                                "table_full", "no_local_port", "no_route", "neighbour_queue",
                                "redirect_full", "tx_full",  "fragment",        "ttl",
                                "client_address", "backup", "extension_header", "translation",
                                "access_list", "server_limit", "rate_limited"};
  static_assert(sizeof(names) / sizeof(names[0]) == static_cast<size_t>(Drop::count_));
  return names[static_cast<int>(d)];
}

constexpr int kMaxPorts = 64;

struct PortCounters {
  uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0;
  uint64_t to_kernel = 0, from_kernel = 0, arp_in = 0, arp_out = 0, icmp_echo = 0;
  uint64_t nd_in = 0, nd_out = 0;   // IPv6 neighbour solicitations and advertisements (nd.cc)
  uint64_t drops[static_cast<int>(Drop::count_)] = {};
};

struct ServiceCounters {
  uint64_t new_sessions = 0, packets_in = 0, packets_out = 0, bytes_in = 0, bytes_out = 0;
  // New flows its accessControl refused: a deny entry matched; the allow list matched nothing.
  uint64_t refused_denied = 0, refused_not_allowed = 0;
  uint64_t rate_limited = 0;   // new flows over clientRateLimit (rate_limit.h)
};

struct BackendCounters {
  uint64_t new_sessions = 0, packets_in = 0, packets_out = 0, bytes_in = 0, bytes_out = 0;
  uint32_t active = 0;    // sessions in TCP ESTABLISHED (or any live UDP session)
  uint32_t inactive = 0;  // other live TCP sessions
  uint64_t limited = 0;   // picks that passed it over at its maxConnections (scheduler.h)
};

// Client address passing (client_address.h): options and headers put in, and the segments
// that could not take them (no room in the TCP header, the MTU or the buffer, or no buffer).
struct ClientAddressCounters {
  uint64_t toa_added = 0, toa_failed = 0, proxy_headers = 0, proxy_own_segments = 0, proxy_failed = 0;
};

// Session sync on one worker (sync_events.h). peer_sessions goes down as well as up.
struct SyncCounters {
  uint64_t events_queued = 0, ring_overflows = 0, installed = 0, updated = 0, closed = 0;
  uint64_t taken_over = 0;     // peer sessions a packet here made this node's own (failover, ECMP move)
  uint64_t taken_over_packets = 0;   // packets forwarded for those sessions
  int64_t peer_sessions = 0;   // installed from a peer and not yet touched by a packet here
  uint64_t dropped[static_cast<int>(SyncDrop::count_)] = {};
};

struct WorkerCounters {
  PortCounters ports[kMaxPorts];
  ServiceCounters services[kMaxServices];
  BackendCounters backends[kMaxBackends];
  uint64_t redirected_out = 0, redirected_in = 0;
  uint64_t sessions_live = 0, sessions_expired = 0, sessions_reset = 0;
  uint64_t loops = 0, busy_loops = 0, cycles_busy = 0;
  BurstHistogram burst;   // durations of the busy loops
  ClientAddressCounters client_address;
  SyncCounters sync;
};

}  // namespace l4lb
