// TOA: the client's address and port as TCP option 254, length 8 (port, then IPv4 address,
// both in network byte order) or, for an IPv6 client, length 20 (port, then the 16-byte IPv6
// address: the form the TOA kernel modules for IPv6 read; NAT64 included, where the server is
// IPv4 and the client IPv6), which a real server's TOA kernel module reads when the
// handshake completes. It rides on the client's segments after the SYN until the server has
// answered (client_address.cc decides when); here is only how it is put into a segment.
//
// Room: a TCP header holds at most 40 bytes of options. When the segment's options plus 8 do
// not fit, they are pruned in this order until they do:
//   1. NOP padding and anything after End of Option List (alignment only; receivers parse
//      options byte by byte);
//   2. SACK blocks (advisory: a sender must not rely on them, RFC 2018 §8; the next ACK
//      carries them again).
// Timestamps, window scale and MSS are never removed (RFC 7323 §3.2 lets a receiver drop a
// segment without timestamps once they were negotiated). If the option still does not fit,
// or the packet would exceed the MTU, the segment goes on unchanged and the caller counts it.
//
// MSS: segments that carry TOA are 8 (or 20) bytes longer, so the MSS the server announces in
// its SYN-ACK (the one the client obeys when it sends) is lowered by as much.
#pragma once

#include <cstdint>

#include "packet.h"

namespace l4lb {

constexpr uint8_t kTcpOptionToa = 254, kToaLength = 8, kToaLength6 = 20;

// The option's length for a client of this family.
inline uint8_t toa_length(const Address& client) { return client.is_v4() ? kToaLength : kToaLength6; }

enum class ToaResult : uint8_t { added, added_after_pruning, no_room };

// Adds the TOA option for `client`:`client_port` (port in host byte order) to the TCP segment in `f`
// (already translated), fixing lengths and checksums; `mtu` bounds the grown IP packet.
// Cost: one pass over the options, a memmove of the headers, sums over the TCP header.
ToaResult insert_toa(rte_mbuf* m, IpFrame& f, const Address& client, uint16_t client_port, uint16_t mtu);

// Lowers the MSS option of a SYN segment by `by` bytes (checksum updated). Returns false
// when there is no (well-formed) MSS option or it is already that small.
// Cost: one pass over the options.
bool lower_mss(rte_tcp_hdr* tcp, uint16_t by);

}  // namespace l4lb
