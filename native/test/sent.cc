// Decoding what lab ports sent; see sent.h.
#include "sent.h"

#include "check.h"

namespace sent {

std::vector<Sent> all(lab::RingPort& port) {
  std::vector<rte_mbuf*> frames = port.sent();
  std::vector<Sent> out;
  for (rte_mbuf* m : frames) out.push_back({packets::see(m), segments::view(m)});
  lab::release(frames);
  return out;
}

Sent one(lab::RingPort& port) {
  std::vector<Sent> frames = all(port);
  CHECK_EQ(frames.size(), size_t(1));
  if (frames.empty()) return {};
  CHECK(frames[0].seen.valid);
  CHECK(frames[0].seen.ip_checksum_ok);
  CHECK(frames[0].seen.l4_checksum_ok);
  return frames[0];
}

lab::Settings with(l4lb::ClientAddress tcp, l4lb::ClientAddress udp) {
  lab::Settings s;
  s.client_address[lab::kTcpService] = tcp;
  s.client_address[lab::kUdpService] = udp;
  return s;
}

}  // namespace sent
