// Frames into and out of the fuzzed workers.
//
// An input frame lives in malloc'd buffers attached to pool mbufs as external buffers, sized
// to the layout: AddressSanitizer then reports any access past a frame's buffer, and
// LeakSanitizer a frame the data plane never freed (mbufs of the pool itself are counted when
// a lab goes away, fuzz_lab.cc).
//
// Every frame a worker sends must be a sound mbuf chain; one that leaves by a NIC with IPv4
// in it, when made by the data plane or from a frame whose checksums were made valid, must
// also have a consistent IPv4 header and valid IPv4, TCP, UDP and ICMP checksums (and a
// valid checksum on the IP header an ICMP error quotes). Any violation aborts, which
// libFuzzer reports as a crash with the input that caused it.
#pragma once

#include <cstdint>
#include <vector>

#include <rte_mbuf.h>

#include "fuzz_lab.h"

namespace fuzz {

rte_mbuf* make_frame(const std::vector<uint8_t>& frame, const Layout& layout, bool checked);
// Makes the IPv4 header checksum valid and, for a whole (unfragmented, untruncated) packet,
// the TCP, UDP (unless it has none) or ICMP checksum and that of the IP header an ICMP error
// quotes. Leaves anything that is not IPv4 with a readable header alone.
void fix_checksums(std::vector<uint8_t>& frame);
// `kernel_side`: the frame went to a tap, which carries whatever the wire brought.
void check_sent(const rte_mbuf* m, uint16_t port, bool kernel_side);

}  // namespace fuzz
