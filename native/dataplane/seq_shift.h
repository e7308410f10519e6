// The sequence shift a PROXY protocol header causes. The header is put in front of the
// client's first payload byte, so the real server's view of the client's byte stream has
// `length` more bytes than the client's from there on:
//
//   client's seq space    ... first ──────────────► (payload)
//   server's seq space    ... first [header: length] ──────────────► (payload + length)
//
// Inbound (client → server) sequence numbers from `first` on grow by `length`; outbound
// acknowledgements and SACK edges (the server acknowledging the client's bytes) shrink by it.
// The client's own acknowledgements and SACK blocks refer to the server's bytes, which nothing
// shifted; outbound sequence numbers likewise stay as they are.
#pragma once

#include <cstdint>

#include <rte_tcp.h>

namespace l4lb {

// Serial-number order (RFC 1982): a is before b within half the sequence space.
inline bool seq_before(uint32_t a, uint32_t b) { return int32_t(a - b) < 0; }

// Where the header sits: `first` is the client's first payload byte (its ISN + 1).
struct HeaderPlace {
  uint32_t first = 0;
  uint32_t length = 0;
};

// The server-side sequence number of an inbound segment starting at `seq` that does not carry
// the header itself. At `first` (a bare ACK or FIN before any payload) it is shifted only once
// the header has gone out; a later segment is always shifted, even one that overtook the first.
inline uint32_t server_seq(uint32_t seq, const HeaderPlace& p, bool header_sent) {
  if (seq_before(seq, p.first) || (seq == p.first && !header_sent)) return seq;
  return seq + p.length;
}

// The client-side value of a server acknowledgement or SACK edge. An edge inside the header
// (the server acknowledged part of it) becomes `first`: none of the client's bytes yet.
inline uint32_t client_seq(uint32_t server_side, const HeaderPlace& p) {
  if (!seq_before(server_side, p.first + p.length)) return server_side - p.length;
  return seq_before(p.first, server_side) ? p.first : server_side;
}

// Sets a segment's sequence number, updating its checksum. Cost: a few ALU operations.
void set_tcp_seq(rte_tcp_hdr* tcp, uint32_t seq);

// Maps an outbound (server → client) segment's acknowledgement and SACK edges into the
// client's space, updating the checksum. Cost: a walk over the options (usually just a
// timestamp) and a few ALU operations per edge.
void unshift_outbound(rte_tcp_hdr* tcp, const HeaderPlace& p);

}  // namespace l4lb
