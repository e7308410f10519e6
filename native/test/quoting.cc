// Session frames kept for quoting; see quoting.h.
#include "quoting.h"

#include <vector>

#include "check.h"
#include "sent.h"
#include "sessions.h"

namespace quoting {

rte_mbuf* one_frame(lab::RingPort& port, uint16_t queue) {
  std::vector<rte_mbuf*> frames = port.sent(queue);
  CHECK_EQ(frames.size(), size_t(1));
  if (frames.size() == 1) return frames[0];
  lab::release(frames);
  return nullptr;
}

rte_mbuf* syn_at_server(lab::Lab& lab, uint16_t client_port, uint16_t service_port) {
  lab::client_port().inject(packets::tcp(lab::from_client6(client_port, service_port), l4lb::kSyn, sent::kIsn, 0));
  lab.poll();
  return one_frame(lab::server_port());
}

rte_mbuf* synack_at_client(lab::Lab& lab, rte_mbuf* syn) {
  const packets::Seen seen = packets::see(syn);
  rte_pktmbuf_free(syn);
  lab::server_port().inject(packets::tcp(lab::from_server(seen.destination, seen.source_port), l4lb::kSyn | l4lb::kAck,
                                         sent::kServerIsn, sent::kIsn + 1));
  lab.poll();
  return one_frame(lab::client_port());
}

Owned syn_on_two_workers(lab::Lab& lab, rte_mbuf* syn) {
  lab::client_port().inject(syn);
  for (int i = 0; i < 2; ++i) {
    lab.poll(0);
    lab.poll(1);
  }
  std::vector<rte_mbuf*> on[2] = {lab::server_port().sent(0), lab::server_port().sent(1)};
  const uint16_t owner = on[0].empty() ? 1 : 0;
  Owned result{nullptr, owner, uint16_t(1 - owner)};
  CHECK_EQ(on[owner].size(), size_t(1));
  CHECK(on[result.other].empty());
  if (on[owner].size() == 1 && on[result.other].empty()) return {on[owner][0], owner, result.other};
  lab::release(on[0]);
  lab::release(on[1]);
  return result;
}

}  // namespace quoting
