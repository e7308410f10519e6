// Layer 2 of a worker: ARP answers and learning, resolution of unknown next hops with a
// bounded queue, the exception path to and from the tap, announcements, foreign frames.
#include <rte_arp.h>
#include <rte_ether.h>

#include "check.h"
#include "lab.h"
#include "neighbour.h"
#include "sessions.h"

using namespace l4lb;
using namespace lab;
using packets::Seen;

namespace {

bool reachable(Worker& w, Address address, const MacAddress& mac) {
  Neighbour* n = w.neighbours->find(address);
  return n && n->state == Neighbour::State::reachable && packets::same_mac(n->mac, mac);
}

// The next configuration, in which the server-side NIC is gone.
std::unique_ptr<Snapshot> without_server_port() {
  Settings next;
  next.generation = 2;
  std::unique_ptr<Snapshot> s = snapshot(next);
  s->ports[server_port().port] = PortInfo{};
  return s;
}

}  // namespace

TEST(l2_arp_request_for_a_vip_is_answered) {
  Lab lab;
  client_port().inject(packets::arp(RTE_ARP_OP_REQUEST, kClientMac, kClient, {}, kVip, true));
  lab.poll();
  std::vector<Seen> out = sent_frames(client_port());
  CHECK_EQ(out.size(), size_t(1));
  if (out.empty()) return;
  CHECK_EQ(out[0].ether_type, RTE_ETHER_TYPE_ARP);
  CHECK_EQ(out[0].arp_op, RTE_ARP_OP_REPLY);
  CHECK_EQ(out[0].arp_sender, kVip);
  CHECK_EQ(out[0].arp_target, kClient);
  CHECK(packets::same_mac(out[0].arp_sender_mac, kClientSideMac));
  CHECK(packets::same_mac(out[0].destination_mac, kClientMac));
  CHECK(reachable(lab.worker(), kClient, kClientMac));   // the asker is learnt on the way
  CHECK_EQ(lab.worker().counters->ports[client_port().port].arp_out, uint64_t(1));
}

TEST(l2_arp_request_for_an_unknown_address_is_ignored) {
  Lab lab;
  client_port().inject(packets::arp(RTE_ARP_OP_REQUEST, kClientMac, kClient, {}, packets::ip(10, 0, 0, 77), true));
  lab.poll();
  CHECK(sent_frames(client_port()).empty());
  CHECK(sent_frames(tap_port()).empty());
  CHECK(lab.worker().neighbours->find(kClient) == nullptr);
  CHECK_EQ(lab.drops(Drop::no_service), uint64_t(1));
}

TEST(l2_unresolved_next_hop_queues_asks_and_flushes) {
  Lab lab;
  Worker& w = lab.worker();
  client_port().inject(packets::tcp(from_client(46000), kSyn, 1, 0));
  lab.poll();
  std::vector<Seen> asked = sent_frames(server_port());
  CHECK_EQ(asked.size(), size_t(1));
  if (asked.size() != 1) return;
  CHECK_EQ(asked[0].arp_op, RTE_ARP_OP_REQUEST);
  CHECK_EQ(asked[0].arp_sender, kLip);
  CHECK_EQ(asked[0].arp_target, kRs1);
  CHECK(packets::same_mac(asked[0].arp_sender_mac, kServerSideMac));

  // A retransmitted SYN within 100 ms waits without asking again.
  lab.advance(10);
  client_port().inject(packets::tcp(from_client(46000), kSyn, 1, 0));
  lab.poll();
  CHECK(sent_frames(server_port()).empty());

  // The answer sends both, to the learnt MAC.
  server_port().inject(packets::arp(RTE_ARP_OP_REPLY, kRs1Mac, kRs1, kServerSideMac, kLip, false));
  lab.poll();
  std::vector<Seen> sent = sent_frames(server_port());
  CHECK_EQ(sent.size(), size_t(2));
  for (const Seen& s : sent) {
    CHECK_EQ(s.destination, kRs1);
    CHECK(packets::same_mac(s.destination_mac, kRs1Mac));
  }
  CHECK(reachable(w, kRs1, kRs1Mac));

  // The client was never learnt: the SYN+ACK waits for it, then is given up after ~3 s.
  if (sent.empty()) return;
  server_port().inject(packets::tcp(from_server(kRs1, sent[0].source_port), kSyn | kAck, 9, 2));
  lab.poll();
  std::vector<Seen> asked_client = sent_frames(client_port());
  CHECK_EQ(asked_client.size(), size_t(1));
  if (!asked_client.empty()) CHECK_EQ(asked_client[0].arp_sender, kVip);
  lab.advance(150);
  lab.poll();
  CHECK_EQ(sent_frames(client_port()).size(), size_t(1));   // asked again
  lab.advance(3000);
  lab.poll();
  client_port().clear();
  CHECK_EQ(lab.drops(Drop::neighbour_queue), uint64_t(1));
  CHECK(w.neighbours->find(kClient) == nullptr);
}

TEST(l2_neighbour_queue_is_bounded) {
  Lab lab;
  for (int i = 0; i < Neighbour::kQueueLength + 2; ++i)   // one flow, its SYN retransmitted
    client_port().inject(packets::tcp(from_client(47000), kSyn, 1, 0));
  lab.poll();
  server_port().clear();
  CHECK_EQ(lab.drops(Drop::neighbour_queue), uint64_t(2));
  lab.advance(3100);
  lab.poll();
  server_port().clear();
  CHECK_EQ(lab.drops(Drop::neighbour_queue), uint64_t(Neighbour::kQueueLength + 2));
}

TEST(l2_probe_address_traffic_goes_to_the_kernel_and_back) {
  Lab lab;
  Worker& w = lab.worker();
  packets::Ends to_probe = from_client(22);
  to_probe.destination = kProbe;
  client_port().inject(packets::tcp(to_probe, kSyn, 1, 0));
  client_port().inject(packets::arp(RTE_ARP_OP_REQUEST, kClientMac, kClient, {}, kProbe, true));
  lab.poll();
  std::vector<Seen> to_kernel = sent_frames(tap_port());
  CHECK_EQ(to_kernel.size(), size_t(2));
  CHECK_EQ(w.counters->ports[client_port().port].to_kernel, uint64_t(2));
  CHECK(w.neighbours->find(kClient) == nullptr);   // the kernel answers its own ARP
  CHECK_EQ(w.sessions->size(), 0u);

  packets::Ends from_kernel{kClientSideMac, kClientMac, kProbe, kClient, 22, 50000};
  tap_port().inject(packets::tcp(from_kernel, kSyn | kAck, 1, 2));
  lab.poll();
  std::vector<Seen> out = sent_frames(client_port());
  CHECK_EQ(out.size(), size_t(1));
  if (!out.empty()) CHECK_EQ(out[0].source, kProbe);
  CHECK_EQ(w.counters->ports[client_port().port].from_kernel, uint64_t(1));
}

TEST(l2_learnt_arp_reaches_every_worker) {
  Lab lab(2);
  server_port().inject(packets::arp(RTE_ARP_OP_REPLY, kRs2Mac, kRs2, kServerSideMac, kLip, false));
  lab.poll(0);
  CHECK(reachable(lab.worker(0), kRs2, kRs2Mac));
  CHECK(lab.worker(1).neighbours->find(kRs2) == nullptr);
  lab.poll(1);
  CHECK(reachable(lab.worker(1), kRs2, kRs2Mac));
  CHECK(sent_frames(server_port(), 1).empty());   // a copy is learnt from, never answered
}

// IPv4 addresses by gratuitous ARP; the IPv6 ones by unsolicited advertisements (nd_test.cc).
TEST(l2_announce_sends_gratuitous_arp_for_every_owned_address) {
  Lab lab;
  lab.worker().announce = true;
  lab.poll();
  std::vector<Seen> client_side = sent_frames(client_port()), server_side = sent_frames(server_port());
  CHECK_EQ(client_side.size(), size_t(2));
  CHECK_EQ(server_side.size(), size_t(2));
  if (client_side.size() == 2) {
    CHECK_EQ(client_side[0].arp_sender, kVip);
    CHECK_EQ(client_side[0].arp_target, kVip);
    CHECK(packets::same_mac(client_side[0].arp_sender_mac, kClientSideMac));
    CHECK_EQ(client_side[1].ether_type, RTE_ETHER_TYPE_IPV6);
  }
  if (server_side.size() == 2) {
    CHECK_EQ(server_side[0].arp_sender, kLip);
    CHECK_EQ(server_side[1].ether_type, RTE_ETHER_TYPE_IPV6);
  }
  CHECK(!lab.worker().announce.load());
}

TEST(l2_foreign_frames_are_dropped) {
  Lab lab;
  lab.seed_neighbours();
  rte_mbuf* lldp = packets::tcp(from_client(48000), kSyn, 1, 0);
  rte_pktmbuf_mtod(lldp, rte_ether_hdr*)->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_LLDP);
  rte_mbuf* vlan = packets::tcp(from_client(48001), kSyn, 1, 0);
  rte_pktmbuf_mtod(vlan, rte_ether_hdr*)->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
  rte_mbuf* mislabelled = packets::tcp(from_client(48003), kSyn, 1, 0);   // IPv4 said to be IPv6
  rte_pktmbuf_mtod(mislabelled, rte_ether_hdr*)->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
  packets::Ends elsewhere = from_client(48002);
  elsewhere.destination_mac = packets::mac(0x77);   // flooded by a bridge, meant for another host
  client_port().inject(lldp);
  client_port().inject(vlan);
  client_port().inject(mislabelled);
  client_port().inject(packets::tcp(elsewhere, kSyn, 1, 0));
  lab.poll();
  CHECK(sent_frames(server_port()).empty());
  CHECK_EQ(lab.drops(Drop::not_ip), uint64_t(2));
  CHECK_EQ(lab.drops(Drop::malformed), uint64_t(1));
  CHECK_EQ(lab.drops(Drop::no_service), uint64_t(1));
}

// A buffer that fills up is sent at once and forgets its pending bit, so a later flush never
// touches that port again (it may be closed once a snapshot without it has been taken).
TEST(l2_full_transmit_buffer_leaves_no_pending_flush) {
  Lab lab;
  lab.seed_neighbours();
  Worker& w = lab.worker();
  for (uint16_t i = 0; i < Worker::kBurst; ++i)
    client_port().inject(packets::tcp(from_client(uint16_t(49000 + i)), kSyn, 1, 0));
  lab.poll();
  CHECK_EQ(sent_frames(server_port()).size(), size_t(Worker::kBurst));
  CHECK_EQ(w.tx_pending, uint64_t(0));

  lab.publish(without_server_port());
  client_port().inject(packets::tcp(from_client(49000), kAck, 2, 1));
  lab.poll();
  CHECK(sent_frames(server_port()).empty());
  CHECK_EQ(lab.drops(Drop::no_route), uint64_t(1));
  CHECK_EQ(w.tx_pending, uint64_t(0));
}

TEST(l2_flush_sends_only_what_was_buffered) {
  Lab lab;
  Worker& w = lab.worker();
  w.send_raw(packets::tcp(from_client(49100), kSyn, 1, 0), server_port().port);
  CHECK_EQ(w.tx_pending, uint64_t(1) << server_port().port);
  w.flush_tx();
  CHECK_EQ(sent_frames(server_port()).size(), size_t(1));
  CHECK(sent_frames(client_port()).empty());
  CHECK_EQ(w.tx_pending, uint64_t(0));
}

// send_ip's resolved hops (neighbour.h) must never outlive what they were made from.
TEST(l2_neighbour_that_changes_mac_is_used_at_once) {
  Lab lab;
  lab.seed_neighbours();
  client_port().inject(packets::tcp(from_client(49200), kSyn, 1, 0));
  lab.poll();
  std::vector<Seen> first = sent_frames(server_port());
  CHECK_EQ(first.size(), size_t(1));
  if (first.empty()) return;
  // The real server's NIC was replaced; it announces its address (gratuitous ARP, not for us).
  const MacAddress moved = packets::mac(0x31);
  const Address server = first[0].destination;
  server_port().inject(packets::arp(RTE_ARP_OP_REPLY, moved, server, {}, server, true));
  lab.poll();
  client_port().inject(packets::tcp(from_client(49200), kAck, 2, 1));
  lab.poll();
  std::vector<Seen> next = sent_frames(server_port());
  CHECK_EQ(next.size(), size_t(1));
  if (!next.empty()) CHECK(packets::same_mac(next[0].destination_mac, moved));
}

TEST(l2_new_snapshot_port_mac_is_used_at_once) {
  Lab lab;
  lab.seed_neighbours();
  client_port().inject(packets::tcp(from_client(49300), kSyn, 1, 0));
  lab.poll();
  CHECK_EQ(sent_frames(server_port()).size(), size_t(1));
  Settings settings;
  settings.generation = 2;
  std::unique_ptr<Snapshot> next = snapshot(settings);
  const MacAddress renamed = packets::mac(0xb2);
  next->ports[server_port().port].mac = renamed;
  lab.publish(std::move(next));
  client_port().inject(packets::tcp(from_client(49300), kAck, 2, 1));
  lab.poll();
  std::vector<Seen> out = sent_frames(server_port());
  CHECK_EQ(out.size(), size_t(1));
  if (!out.empty()) CHECK(packets::same_mac(out[0].source_mac, renamed));
}

// A stale neighbour is still used, and asked for again at most once per kRetryMs; the answer
// makes it fresh. UDP, whose sessions outlive kReachableMs when refreshed.
TEST(l2_stale_neighbour_is_used_and_asked_for_once_per_retry) {
  Lab lab;
  lab.seed_neighbours();
  auto send = [&] {
    client_port().inject(packets::udp(from_client(49400, kUdpPort)));
    lab.poll();
    size_t arp = 0, udp = 0;
    for (const Seen& s : sent_frames(server_port())) ++(s.ether_type == RTE_ETHER_TYPE_ARP ? arp : udp);
    CHECK_EQ(udp, size_t(1));
    return arp;
  };
  CHECK_EQ(send(), size_t(0));
  lab.advance(Neighbours::kReachableMs / 2);
  CHECK_EQ(send(), size_t(0));                       // fresh: from the cache
  lab.advance(Neighbours::kReachableMs / 2 + 1);
  CHECK_EQ(send(), size_t(1));                       // stale: asked
  lab.advance(Neighbours::kRetryMs / 2);
  CHECK_EQ(send(), size_t(0));                       // asked already
  lab.advance(Neighbours::kRetryMs / 2);
  CHECK_EQ(send(), size_t(1));                       // asked again
  lab.advance(1);
  server_port().inject(packets::arp(RTE_ARP_OP_REPLY, kRs1Mac, kRs1, kServerSideMac, kLip, false));
  server_port().inject(packets::arp(RTE_ARP_OP_REPLY, kRs2Mac, kRs2, kServerSideMac, kLip, false));
  lab.poll();
  lab.advance(Neighbours::kRetryMs);
  CHECK_EQ(send(), size_t(0));                       // answered: fresh again
}
