// Growing a TCP or UDP packet in place: its L4 header replaced by a longer one (TOA adds an
// option) or followed by bytes put before the payload (a PROXY protocol header). The payload
// itself is never read or moved when the frame has headroom: the headers in front of it move
// towards the buffer's start instead.
//
// The new L4 checksum is derived, not recomputed: the old checksum minus the pseudo-header
// and the old L4 header gives the payload's sum; the new checksum is the new pseudo-header,
// the new head and that sum (byte-swapped when the payload moved by an odd number of bytes).
// That costs a pass over the head only, and a segment that arrived corrupt stays detectably
// corrupt instead of being sealed with a fresh, valid checksum.
#pragma once

#include <cstdint>

#include "packet.h"

namespace l4lb {

// Replaces the first `old_length` bytes of the frame's L4 part (its TCP or UDP header) with
// the `length` bytes at `head` (length >= old_length), moving what was before it towards the
// front (or, without headroom, the payload of a one-segment frame towards the back). Fixes
// the IP length (and the IPv4 header checksum), a UDP header's length, and the L4 checksum (whose
// field in `head` is ignored). Updates `f` (headers moved). Returns false and changes nothing
// when the IP packet would exceed `mtu` or the buffer has no room.
// Cost: a memmove of the Ethernet and IP headers plus old_length, sums over the head.
bool replace_l4_head(rte_mbuf* m, IpFrame& f, uint16_t old_length, const uint8_t* head, uint16_t length,
                     uint16_t mtu);

}  // namespace l4lb
