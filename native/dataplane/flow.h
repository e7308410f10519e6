// Internals shared by the IP files of a worker (flow.cc, icmp.cc, icmpv6.cc, reset.cc,
// session_control.cc), and owner_of_client() for the sync records a peer sends
// (sync_record.cc). Not an interface for anyone else.
#pragma once

#include <cstdint>

#include "next_hops.h"
#include "packet.h"
#include "sessions.h"
#include "worker.h"

namespace l4lb {

// Which worker owns the flows of a client (address, port). A worker that receives a packet
// towards a VIP passes it to this owner before any lookup, so one flow lives in exactly one
// table however the NIC spreads frames (af_packet, virtio and RSS all differ); the owner takes
// the local port from its own slice, so the return traffic finds it by owner_of_local_port().
// Peers that sync sessions must agree on it, like on the port slicing.
inline uint16_t owner_of_client(const Address& address, uint16_t port, uint16_t workers) {
  uint32_t h = address.fold32() * 0x9e3779b1u ^ (uint32_t(port) * 0x85ebca6bu);
  h ^= h >> 16;
  return uint16_t(h % workers);
}

// Whether `address` is one of the port's VIPs or local addresses. Cost: a scan of a few entries.
inline bool owns(const PortInfo& port, const Address& address) {
  for (const Address& a : port.owned)
    if (a == address) return true;
  return false;
}

// A session of `service` from `inbound` to `outbound` on `backend`, answering the client by
// `client_side`: what a new flow and a peer's session (sync_events.cc) both start from. It
// holds its next hops (next_hops.h): a session that is not inserted gives them back with
// release_hops(); false when the worker's hop table is full (nothing held then).
bool make_session(Worker& w, const FlowKey& inbound, const FlowKey& outbound, const Service& service,
                  const Backend& backend, const Egress& client_side, Session* out);
void release_hops(Worker& w, const Session& s);

// Where a session's packets leave towards each side. Cost: a compare, and for a gateway one
// load from the worker's small hop table.
inline Egress client_egress(const Worker& w, const Session& s) {
  return Egress{s.client_port_id, s.client_hop == kDirectHop ? s.inbound.source : w.next_hops->address(s.client_hop)};
}
inline Egress server_egress(const Worker& w, const Session& s) {
  return Egress{s.server_port_id, s.server_hop == kDirectHop ? s.outbound.source : w.next_hops->address(s.server_hop)};
}
// Counts a session just inserted: live, active or inactive for its backend, and (unless it is
// a peer's, server_sessions.h) one of this node's sessions of its backend.
void count_live_session(Worker& w, const Session& s);
// Moves a session to `next`, keeping the backend's active/inactive counts in step.
void set_state(Worker& w, Session& s, TcpState next);
// Releases the local port, updates the counters and erases the session.
void end_session(Worker& w, uint32_t index);
// Sends a RST to the client and one to the real server of a TCP session.
void send_resets(Worker& w, const Session& s);
// ICMP towards us: echo requests to an owned address are answered; errors about a session's
// packet are translated and passed to the other end.
void handle_icmp(Worker& w, rte_mbuf* m, const IpFrame& f, uint16_t in_port);
// ICMPv6 towards us (icmpv6.cc): neighbour solicitations and advertisements (nd.cc; from_wire
// false: a copy another worker learnt from), echo requests to an owned address, and errors
// about a session's packet, translated as handle_icmp() does.
void handle_icmpv6(Worker& w, rte_mbuf* m, const IpFrame& f, uint16_t in_port, bool from_wire);

}  // namespace l4lb
