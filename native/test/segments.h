// TCP segments with options and a chosen payload, and their options and payload read back,
// for the client-address tests (TOA, PROXY protocol). Checksums are computed from scratch
// here, as in packets.cc, so they check the data plane's derived ones independently.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <rte_mbuf.h>

#include "packet.h"
#include "packets.h"

namespace segments {

using Bytes = std::vector<uint8_t>;

// A TCP segment (of e.source's family, no IP options or extension headers) with `options` (padded with End of Option List to a
// multiple of 4) and `payload`; `headroom` bytes before the Ethernet header (at most the
// buffer's default headroom).
rte_mbuf* tcp(const packets::Ends& e, uint8_t flags, uint32_t seq, uint32_t ack, const Bytes& options,
              const std::string& payload, uint16_t headroom = RTE_PKTMBUF_HEADROOM);
// A UDP datagram with `payload`, checksummed.
rte_mbuf* udp(const packets::Ends& e, const std::string& payload);

// The frame parsed as the worker would (CHECKs that it parses).
l4lb::IpFrame parse(rte_mbuf* m);

// What a TCP/UDP frame carries beyond the fixed headers.
struct View {
  bool valid = false;
  Bytes options;          // TCP: the option bytes; UDP: none
  std::string payload;
  uint16_t ip_total_length = 0, udp_length = 0;
};
View view(const rte_mbuf* m);

// The bytes of the first option of `kind` (kind and length included), empty when absent.
Bytes option(const Bytes& options, uint8_t kind);

// Options as a sender lays them out.
Bytes mss(uint16_t value);
Bytes timestamps(uint32_t value, uint32_t echo);          // NOP NOP TS
Bytes sack(const std::vector<std::pair<uint32_t, uint32_t>>& blocks);   // NOP NOP SACK
Bytes concat(std::initializer_list<Bytes> parts);

}  // namespace segments
