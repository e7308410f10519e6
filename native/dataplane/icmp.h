// What ICMP and ICMPv6 share (icmp.cc), for handle_icmp() there and handle_icmpv6()
// (icmpv6.cc): the two messages differ in their numbers and in ICMPv6's pseudo-header, not in
// what the balancer does with them.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

#include "packet.h"
#include "worker.h"

namespace l4lb {

// Turns an echo request (of either family) to an owned address into its reply, in place, and
// sends it back by `in_port`.
void answer_echo(Worker& w, rte_mbuf* m, const IpFrame& f, uint16_t in_port);

// Translates an error (destination unreachable, packet too big, time exceeded, parameter
// problem) that quotes a packet of a session, and passes it to the session's other end, or to
// the worker that owns the session. False, with `m` left to the caller, when it quotes no
// session of ours.
bool translate_error(Worker& w, rte_mbuf* m, const IpFrame& f, uint16_t in_port);

}  // namespace l4lb
