// What ICMP and ICMPv6 share (icmp.cc), for handle_icmp() there and handle_icmpv6()
// (icmpv6.cc): the two messages differ in their numbers and in ICMPv6's pseudo-header, not in
// what the balancer does with them. Errors about NAT64 sessions change family
// (icmp_translate.cc). None of this is the hot path: errors are rare.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

#include "checksum.h"
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

// What translate_error() found for an error: the quote (its IP header and at least 8 bytes of
// TCP/UDP header, in the error's family), the session, the direction of the session's packets
// the quote is the mirror of, the packet the quote becomes (as the other side saw it sent) and
// where the translated error leaves.
struct QuotedSession {
  const IpFrame& quote;
  const Session& session;
  Direction direction;
  const FlowKey& as_sent;
  Egress egress;
};

// Gives the quoted TCP/UDP header as_sent's ports (and a segment to the server its seq in the
// client's sequence space) and fixes its checksum, when quoted, from that and `l4` (the
// pseudo-header's change). Returns the change of the ICMP message's words.
ChecksumDelta rewrite_quoted_l4(const IpFrame& quote, const Session& s, Direction direction, const FlowKey& as_sent,
                                ChecksumDelta l4);

// An error about a NAT64 session (icmp_translate.cc), ICMP from the server side or ICMPv6 from
// the client side: sent on as the other family's error (RFC 7915 4.2, 5.2) in a new frame, and
// `m` freed; dropped as `translation` when RFC 7915 has no equivalent or no buffer is free,
// as `malformed` when its checksum is wrong.
void translate_error_across(Worker& w, rte_mbuf* m, const IpFrame& f, const QuotedSession& q, uint16_t in_port);

}  // namespace l4lb
