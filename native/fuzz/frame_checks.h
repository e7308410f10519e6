// Frames into and out of the fuzzed workers.
//
// An input frame lives in malloc'd buffers attached to pool mbufs as external buffers, sized
// to the layout: AddressSanitizer then reports any access past a frame's buffer, and
// LeakSanitizer a frame the data plane never freed (mbufs of the pool itself are counted when
// a lab goes away, fuzz_lab.cc).
//
// Every frame a worker sends must be a sound mbuf chain. One that leaves by a NIC with IPv4 or
// IPv6 in it, unless the kernel sent it, must also have a consistent IP header (IPv4: header
// and total length, TTL above 0; IPv6: version, payload length within the frame, hop limit
// above 0 and below 255 but for neighbour discovery, no IPv4-mapped address, nor in the IPv6
// header an ICMPv6 error quotes) and a source address the lab owns, in the frame's family: a
// NAT64 flow's packets leave in the family of the side they go to, or carry an address that
// is not ours. When made by the data plane or from a frame whose checksums were made valid, it
// must also have valid IPv4 header, TCP, UDP, ICMP and ICMPv6 checksums (and a valid checksum
// on the IPv4 header an ICMP error quotes); IPv6 UDP has one. Any violation aborts, which
// libFuzzer reports as a crash with the input that caused it.
#pragma once

#include <cstdint>
#include <vector>

#include <rte_mbuf.h>

#include "address.h"
#include "fuzz_lab.h"

namespace fuzz {

// What the frames that leave with an input frame's buffers are held to.
enum class Expect : uint8_t {
  nothing,     // the kernel's frames leave by the NIC as they came
  headers,     // sound IP headers and own source addresses
  checksums,   // that, and valid checksums: the input's were made valid
};

rte_mbuf* make_frame(const std::vector<uint8_t>& frame, const Layout& layout, Expect expect);
// Makes the IPv4 header checksum valid and, for a whole (unfragmented, untruncated) packet,
// the TCP, UDP (over IPv4 unless it has none) or ICMP checksum and that of the IPv4 header an
// ICMP error quotes; for IPv6 (no extension headers), the TCP, UDP or ICMPv6 checksum. Leaves
// anything else alone.
void fix_checksums(std::vector<uint8_t>& frame);
// `kernel_side`: the frame went to a tap, which carries whatever the wire brought. `own`: the
// lab's VIPs and local addresses.
void check_sent(const rte_mbuf* m, uint16_t port, bool kernel_side, const std::vector<l4lb::Address>& own);

}  // namespace fuzz
