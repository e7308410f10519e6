// Frames of a session kept whole, for the ICMP error tests to quote: the client's SYN as the
// server received it and the server's SYN-ACK as the client received it.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

#include "lab.h"

namespace quoting {

// The one frame `port` sent on `queue`, kept (free it, or release()); null, CHECK failed, when
// it sent none or several.
rte_mbuf* one_frame(lab::RingPort& port, uint16_t queue = 0);
// The client's SYN (seq sent::kIsn) from kClient6:`client_port` to kVip6:`service_port`, as the
// server side received it (null if it did not).
rte_mbuf* syn_at_server(lab::Lab& lab, uint16_t client_port, uint16_t service_port = lab::kTcpPort);
// The server's SYN-ACK (seq sent::kServerIsn) to `syn` (which it frees), as the client received it.
rte_mbuf* synack_at_client(lab::Lab& lab, rte_mbuf* syn);

// A client's SYN through a two-worker lab: the frame the server side received (kept; null, CHECK
// failed, unless exactly one worker sent exactly one) and the worker that sent it, the owner.
struct Owned {
  rte_mbuf* frame;
  uint16_t owner, other;
};
Owned syn_on_two_workers(lab::Lab& lab, rte_mbuf* syn);

}  // namespace quoting
