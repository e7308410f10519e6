// What a lab port sent, decoded as the client-address and IPv6 tests read it: the frame's
// headers (packets::see) and its options and payload (segments::view).
#pragma once

#include <vector>

#include "lab.h"
#include "segments.h"

namespace sent {

// The sequence numbers the tests' handshakes use: the client's ISN, its first byte, the server's ISN.
constexpr uint32_t kIsn = 1000, kFirst = kIsn + 1, kServerIsn = 5000;

struct Sent {
  packets::Seen seen;
  segments::View view;
};

// Every frame a port sent, decoded and freed.
std::vector<Sent> all(lab::RingPort& port);
// The one frame a port sent, with valid checksums (CHECKed).
Sent one(lab::RingPort& port);
// Lab settings with these client-address modes for the TCP and UDP services (and their IPv6
// and NAT64 twins).
lab::Settings with(l4lb::ClientAddress tcp, l4lb::ClientAddress udp = l4lb::ClientAddress::none);

}  // namespace sent
