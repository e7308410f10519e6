// Passing the client's address to the real server, per session: TOA (toa.h) or a PROXY
// protocol header (proxy_protocol.h, with the sequence shift of seq_shift.h). flow.cc calls
// one hook per direction after the FullNAT translation; sessions without either cost one test.
//
// Per-session state, so it survives configuration changes and can be synced:
//   - Session::flags: the mode, captured when the session opens (a service switched to another
//     mode through the API changes new sessions only), and kSessionAddressPassed:
//       TOA    the server has sent a segment after its SYN-ACK, so it holds the connection
//              (and the address): no more options. Until then every client segment after the
//              SYN carries one, so a lost third ACK cannot lose the address.
//       PROXY  the header has gone out at least once (a retransmitted first segment gets it
//              again, at the same place).
//   - Session::seq_delta: the PROXY header's length, fixed on the client's SYN.
//   - Session::client_first_seq: the client's ISN + 1, where the header goes.
//
// Data on the SYN itself (TCP Fast Open) is not given a header: real servers behind a PROXY
// protocol service must not enable Fast Open.
#pragma once

#include <cstdint>

#include "config.h"
#include "packet.h"
#include "seq_shift.h"
#include "sessions.h"
#include "worker.h"

namespace l4lb {

// Session::flags bits. Bit 0 is left for session sync.
constexpr uint8_t kSessionToa = 1 << 1, kSessionProxyV1 = 1 << 2, kSessionProxyV2 = 1 << 3;
constexpr uint8_t kSessionClientAddress = kSessionToa | kSessionProxyV1 | kSessionProxyV2;
constexpr uint8_t kSessionAddressPassed = 1 << 4;

// The flags a new session of a service with `mode` starts with (UDP: PROXY v2 only).
uint8_t client_address_flags(ClientAddress mode, uint8_t protocol);

bool pass_client_address(Worker& w, rte_mbuf* m, IpFrame& f, Session& s);
void unshift_for_client(IpFrame& f, Session& s);

// Inbound (client → server), after translation: adds TOA or the PROXY header, or shifts the
// sequence number. May move the frame's headers (f is updated) and may send a header segment
// first. False when it dropped the frame (a UDP datagram that cannot take its header).
// Cost without a mode: one test; with one, see toa.h, proxy_protocol.h and seq_shift.h.
inline bool client_address_inbound(Worker& w, rte_mbuf* m, IpFrame& f, Session& s) {
  return !(s.flags & kSessionClientAddress) || pass_client_address(w, m, f, s);
}

// Outbound (server → client), after translation: lowers a TOA session's SYN-ACK MSS, maps a
// PROXY session's acknowledgement and SACK edges back. Cost without a mode: one test.
inline void client_address_outbound(IpFrame& f, Session& s) {
  if (s.flags & kSessionClientAddress) unshift_for_client(f, s);
}

// The server-side value of a client sequence number `seq` (as for a bare segment), e.g. for
// a RST the load balancer sends to the server.
inline uint32_t server_side_seq(const Session& s, uint32_t seq) {
  if (!(s.flags & (kSessionProxyV1 | kSessionProxyV2)) || s.seq_delta == 0) return seq;
  return server_seq(seq, HeaderPlace{s.client_first_seq, uint32_t(s.seq_delta)}, s.flags & kSessionAddressPassed);
}

// The client-side value of a server-side sequence number of the client's bytes (a server's
// acknowledgement, or the seq of a segment sent to the server that an ICMP error quotes).
inline uint32_t client_side_seq(const Session& s, uint32_t seq) {
  if (!(s.flags & (kSessionProxyV1 | kSessionProxyV2)) || s.seq_delta == 0) return seq;
  return client_seq(seq, HeaderPlace{s.client_first_seq, uint32_t(s.seq_delta)});
}

}  // namespace l4lb
