// Multi-active clusters: a pool's addresses on peers (learnt from their hellos) are looked up
// like this node's own, so a peer's session installed here carries replies that the router's
// covering route brings after the peer died; they are never handed out nor answered by ARP,
// and a packet for one without a session here is dropped.
#include <vector>

#include <rte_arp.h>
#include <rte_ring_elem.h>

#include "check.h"
#include "flow.h"
#include "lab.h"
#include "sessions.h"
#include "sync_events.h"

using namespace l4lb;
using namespace lab;
using packets::Seen;

namespace {

const Address kPeerLip = packets::ip(10, 1, 0, 3);
constexpr uint16_t kPeerPort = 2051;   // on worker 0 of 1
constexpr uint32_t kIsn = 1000, kServerIsn = 5000;

Settings cluster_node() {
  Settings s;
  s.sync_events = true;
  s.peer_addresses = {kPeerLip};
  return s;
}

// A peer's established session: client 40000 through the peer's local address.
SyncEvent peer_session() {
  SyncEvent e = peer_event();
  e.local_address = kPeerLip;
  e.local_port = kPeerPort;
  return e;
}

packets::Ends to_peer_address(uint16_t local_port) {
  packets::Ends e = from_server(kRs1, local_port);
  e.destination = kPeerLip;
  return e;
}

}  // namespace

TEST(cluster_peer_address_carries_replies_of_sessions_held_here) {
  Lab lab(1, 1024, cluster_node());
  lab.seed_neighbours();
  Worker& w = lab.worker();
  CHECK(w.snapshot->find_pool(kPeerLip) == &w.snapshot->pools[0]);

  // Nothing held yet: a reply to the peer's address is not ours to forward.
  server_port().inject(packets::tcp(to_peer_address(kPeerPort), kAck, kServerIsn, kIsn));
  lab.poll();
  CHECK(sent_frames(client_port()).empty());
  CHECK_EQ(lab.drops(Drop::no_service), uint64_t(1));

  SyncEvent e = peer_session();
  CHECK_EQ(rte_ring_sp_enqueue_elem(w.sync_in, &e, sizeof(e)), 0);
  lab.poll();
  CHECK_EQ(w.sessions->size(), 1u);

  // The server's segment to the peer's address reaches the client from the VIP.
  server_port().inject(packets::tcp(to_peer_address(kPeerPort), kAck | kPsh, kServerIsn, kIsn, 10));
  lab.poll();
  std::vector<Seen> out = sent_frames(client_port());
  CHECK_EQ(out.size(), size_t(1));
  CHECK_EQ(w.counters->sync.taken_over, uint64_t(1));
  CHECK_EQ(w.counters->sync.taken_over_packets, uint64_t(1));
  CHECK_EQ(w.counters->sync.peer_sessions, int64_t(0));
  if (out.size() == 1) {
    CHECK_EQ(out[0].source, kVip);
    CHECK_EQ(out[0].source_port, kTcpPort);
    CHECK_EQ(out[0].destination, kClient);
    CHECK_EQ(out[0].destination_port, uint16_t(40000));
    CHECK(out[0].l4_checksum_ok);
  }
  // And the client's next segment leaves through the peer's address too (an ECMP move).
  client_port().inject(packets::tcp(from_client(40000), kAck, kIsn, kServerIsn + 10));
  lab.poll();
  std::vector<Seen> in = sent_frames(server_port());
  CHECK_EQ(in.size(), size_t(1));
  CHECK_EQ(w.counters->sync.taken_over, uint64_t(1));            // once per session
  CHECK_EQ(w.counters->sync.taken_over_packets, uint64_t(2));    // every packet of it
  if (in.size() == 1) {
    CHECK_EQ(in[0].source, kPeerLip);
    CHECK_EQ(in[0].source_port, kPeerPort);
  }
}

TEST(cluster_new_sessions_never_take_a_peer_address) {
  Lab lab(1, 1024, cluster_node());
  lab.seed_neighbours();
  for (uint16_t cport = 41000; cport < 41032; ++cport) {
    client_port().inject(packets::tcp(from_client(cport), kSyn, kIsn, 0));
    lab.poll();
  }
  std::vector<Seen> out = sent_frames(server_port());
  CHECK_EQ(out.size(), size_t(32));
  for (const Seen& s : out) CHECK_EQ(s.source, kLip);
}

TEST(cluster_peer_address_is_not_answered_by_arp) {
  Lab lab(1, 1024, cluster_node());
  server_port().inject(packets::arp(RTE_ARP_OP_REQUEST, kRs1Mac, kRs1, {}, kPeerLip, true));
  lab.poll();
  CHECK(sent_frames(server_port()).empty());
  server_port().inject(packets::arp(RTE_ARP_OP_REQUEST, kRs1Mac, kRs1, {}, kLip, true));
  lab.poll();
  CHECK_EQ(sent_frames(server_port()).size(), size_t(1));   // its own is
}
