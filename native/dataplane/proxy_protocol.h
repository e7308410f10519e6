// PROXY protocol headers (HAProxy's PROXY protocol, versions 1 and 2) for IPv4 and IPv6, and the two
// ways a TCP segment carries one:
//   - prepended to the payload of the client's first payload segment, when the segment can
//     grow within the MTU and its buffer has room;
//   - otherwise in a segment of its own (the first segment's headers with the PROXY header as
//     payload, sent just before it), the original then starting `length` bytes later.
// Both keep the server's byte stream identical: header, then the client's bytes. Sequence
// numbers of everything after are shifted (seq_shift.h).
//
// v1: "PROXY TCP4 <client> <vip> <client port> <vip port>\r\n", 32 to 56 bytes; TCP6 with
//     RFC 5952 addresses, up to 104 bytes. The client's family names it (NAT64 included: the
//     client and the VIP are both IPv6 there).
// v2: the 12-byte signature, 0x21 (version 2, PROXY), 0x11/0x21 (AF_INET/AF_INET6, STREAM) or
//     0x12/0x22 (DGRAM), length 12 or 36, then source address, destination address, source
//     port, destination port, all network byte order: 28 or 52 bytes. The source is the
//     client, the destination the VIP.
#pragma once

#include <cstdint>

#include "config.h"
#include "packet.h"
#include "sessions.h"

namespace l4lb {

constexpr uint16_t kProxyHeaderMax = 104;

// Writes the header of `version` (proxy_v1 or proxy_v2) for the flow `client_to_vip` (as the
// client sent it) into `out`; returns its length, 0 for any other ClientAddress.
// Cost: a few dozen stores (v1 formats four decimal numbers and two dotted quads).
uint16_t proxy_header(ClientAddress version, const FlowKey& client_to_vip, uint8_t (&out)[kProxyHeaderMax]);

// Puts `length` bytes of `header` in front of the payload of the TCP segment or UDP datagram
// in `f` (already translated), fixing lengths and checksums. False, with nothing changed,
// when the packet would exceed `mtu` or its buffer has no room.
// Cost: a memmove of the headers and sums over them (l4_grow.h); the payload is not read.
bool prepend_to_payload(rte_mbuf* m, IpFrame& f, const uint8_t* header, uint16_t length, uint16_t mtu);

// A new frame from `pool` with the Ethernet, IP and TCP headers of the segment in `f` (options
// included) and `header` as its payload; flags ACK and PSH only. Null when the pool is empty.
// Cost: one allocation, a copy of the headers, checksums over ~130 bytes.
rte_mbuf* header_segment(rte_mempool* pool, const rte_mbuf* m, const IpFrame& f, const uint8_t* header,
                         uint16_t length);

}  // namespace l4lb
