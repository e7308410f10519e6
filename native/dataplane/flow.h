// Internals shared by the IPv4 files of a worker (flow.cc, icmp.cc, reset.cc,
// session_control.cc), and owner_of_client() for the sync records a peer sends
// (sync_record.cc). Not an interface for anyone else.
#pragma once

#include <cstdint>

#include "packet.h"
#include "sessions.h"
#include "worker.h"

namespace l4lb {

// Which worker owns the flows of a client (address, port). A worker that receives a packet
// towards a VIP passes it to this owner before any lookup, so one flow lives in exactly one
// table however the NIC spreads frames (af_packet, virtio and RSS all differ); the owner takes
// the local port from its own slice, so the return traffic finds it by owner_of_local_port().
// Peers that sync sessions must agree on it, like on the port slicing.
inline uint16_t owner_of_client(Ipv4 address, uint16_t port, uint16_t workers) {
  uint32_t h = address * 0x9e3779b1u ^ (uint32_t(port) * 0x85ebca6bu);
  h ^= h >> 16;
  return uint16_t(h % workers);
}

// Whether `address` is one of the port's VIPs or local addresses. Cost: a scan of a few entries.
inline bool owns(const PortInfo& port, Ipv4 address) {
  for (Ipv4 a : port.owned)
    if (a == address) return true;
  return false;
}

// process_ipv4() for a burst of IPv4 frames received on one port, all for the data path (not
// for the probe address); cheaper per frame than one at a time (flow.cc says why).
void process_ipv4_burst(Worker& w, rte_mbuf* const* frames, uint16_t count, uint16_t in_port);
// A session of `service` from `inbound` to `outbound` on `backend`, answering the client by
// `client_side`: what a new flow and a peer's session (sync_events.cc) both start from.
Session make_session(const FlowKey& inbound, const FlowKey& outbound, const Service& service, const Backend& backend,
                     const Egress& client_side);
// Counts a session just inserted: live, and active or inactive for its backend.
void count_live_session(Worker& w, const Session& s);
// Moves a session to `next`, keeping the backend's active/inactive counts in step.
void set_state(Worker& w, Session& s, TcpState next);
// Releases the local port, updates the counters and erases the session.
void end_session(Worker& w, uint32_t index);
// Sends a RST to the client and one to the real server of a TCP session.
void send_resets(Worker& w, const Session& s);
// ICMP towards us: echo requests to an owned address are answered; errors about a session's
// packet are translated and passed to the other end.
void handle_icmp(Worker& w, rte_mbuf* m, const Ipv4Frame& f, uint16_t in_port);

}  // namespace l4lb
