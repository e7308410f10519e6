// Aiming an input frame at an established flow (packet_fuzzer.cc's third setup byte), so that
// fuzzed packets reach live sessions instead of dying at the session lookup.
#pragma once

#include <cstdint>
#include <vector>

#include "fuzz_lab.h"
#include "sessions.h"

namespace fuzz {

// Rewrites an IPv4 or IPv6 `frame` (its EtherType decides) into the flow of live session
// (choice - 1) mod n among the n whose side the frame comes from is of the frame's family (a
// NAT64 session: IPv6 on the client side, IPv4 on the server side): addresses, ports and
// protocol to the client's packet to the VIP when it arrives on the client side (or from the
// kernel), to the real server's packet to the local address on the server side. An ICMP or
// ICMPv6 error instead comes to our address and quotes the packet the load balancer sent the
// other way. Leaves other frames, ICMPv6 informational messages (echo, neighbour discovery)
// and frames too short for the rewrite alone.
void aim(std::vector<uint8_t>& frame, Ingress ingress, const std::vector<const l4lb::Session*>& live, uint8_t choice);

}  // namespace fuzz
