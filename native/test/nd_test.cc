// IPv6 neighbour discovery through a worker (nd.cc): solicitations for owned addresses
// answered, askers and advertised targets learnt, malformed messages dropped, a backup that
// learns in silence, unresolved next hops solicited and released by the advertisement, the
// other workers taught by copies, unsolicited advertisements on announce. Checksums are
// verified from scratch by packets::see().
#include <netinet/icmp6.h>

#include <cstring>
#include <tuple>

#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>

#include "check.h"
#include "lab.h"
#include "neighbour.h"
#include "sessions.h"

using namespace l4lb;
using namespace lab;
using packets::Seen;

namespace {

constexpr uint8_t kSolicited = 0x40, kOverride = 0x20;
constexpr uint32_t kIcmpOffset = sizeof(rte_ether_hdr) + sizeof(rte_ipv6_hdr);
const Address kAllNodes = packets::ip6("ff02::1");

// The client asking for `target` at its solicited-node group.
rte_mbuf* client_asks_for(const Address& target, const Address& source = kClient6) {
  return packets::solicitation_at_group(target, source, kClientMac, source != Address());
}

// A real server's answer to a solicitation from the IPv6 local address.
rte_mbuf* server_answers(const Address& server, const MacAddress& mac) {
  return packets::neighbour_advertisement(packets::Ends{mac, kServerSideMac, server, kLip6}, server,
                                          kSolicited | kOverride);
}

uint8_t* icmp_of(rte_mbuf* m) { return rte_pktmbuf_mtod_offset(m, uint8_t*, kIcmpOffset); }

void recompute_checksum(rte_mbuf* m) {
  auto* icmp = reinterpret_cast<rte_icmp_hdr*>(icmp_of(m));
  icmp->icmp_cksum = 0;
  icmp->icmp_cksum = packets::l4_checksum(m, icmp);
}

bool reachable(Worker& w, const Address& address, const MacAddress& mac) {
  Neighbour* n = w.neighbours->find(address);
  return n && n->state == Neighbour::State::reachable && packets::same_mac(n->mac, mac);
}

// An advertisement as RFC 4861 wants it, from the port's MAC (and with it as target option).
void check_advertisement(const Seen& s, const Address& target, const MacAddress& port_mac, uint8_t flags) {
  CHECK(s.valid);
  CHECK_EQ(s.ether_type, RTE_ETHER_TYPE_IPV6);
  CHECK_EQ(s.protocol, IPPROTO_ICMPV6);
  CHECK_EQ(int(s.icmp_type), ND_NEIGHBOR_ADVERT);
  CHECK_EQ(int(s.icmp_code), 0);
  CHECK_EQ(int(s.ttl), 255);
  CHECK(s.l4_checksum_ok);
  CHECK_EQ(s.source, target);
  CHECK_EQ(s.nd_target, target);
  CHECK_EQ(int(s.nd_flags), int(flags));
  CHECK_EQ(int(s.nd_option_type), ND_OPT_TARGET_LINKADDR);
  CHECK(packets::same_mac(s.nd_option_mac, port_mac));
  CHECK(packets::same_mac(s.source_mac, port_mac));
}

}  // namespace

TEST(nd_solicitation_for_a_vip_is_answered_and_the_asker_learnt) {
  Lab lab;
  client_port().inject(client_asks_for(kVip6));
  lab.poll();
  std::vector<Seen> out = sent_frames(client_port());
  CHECK_EQ(out.size(), size_t(1));
  if (out.empty()) return;
  check_advertisement(out[0], kVip6, kClientSideMac, kSolicited | kOverride);
  CHECK_EQ(out[0].destination, kClient6);
  CHECK(packets::same_mac(out[0].destination_mac, kClientMac));
  CHECK(reachable(lab.worker(), kClient6, kClientMac));
  const PortCounters& c = lab.worker().counters->ports[client_port().port];
  CHECK_EQ(c.nd_in, uint64_t(1));
  CHECK_EQ(c.nd_out, uint64_t(1));
  CHECK_EQ(c.arp_out, uint64_t(0));
}

TEST(nd_solicitation_for_an_address_not_owned_by_the_port_is_ignored) {
  Lab lab;
  client_port().inject(client_asks_for(packets::ip6("2001:db8::77")));
  client_port().inject(client_asks_for(kLip6));   // owned, but on the server side
  lab.poll();
  CHECK(sent_frames(client_port()).empty());
  CHECK(lab.worker().neighbours->find(kClient6) == nullptr);
  CHECK_EQ(lab.drops(Drop::no_service), uint64_t(2));
}

TEST(nd_duplicate_address_probe_is_answered_to_all_nodes) {
  Lab lab;
  client_port().inject(client_asks_for(kVip6, Address()));
  lab.poll();
  std::vector<Seen> out = sent_frames(client_port());
  CHECK_EQ(out.size(), size_t(1));
  if (out.empty()) return;
  check_advertisement(out[0], kVip6, kClientSideMac, kOverride);   // not solicited: to all
  CHECK_EQ(out[0].destination, kAllNodes);
  CHECK(packets::same_mac(out[0].destination_mac, packets::group_mac(kAllNodes)));
  CHECK(lab.worker().neighbours->find(Address()) == nullptr);
}

TEST(nd_malformed_solicitations_are_dropped) {
  Lab lab;
  std::vector<rte_mbuf*> bad;
  bad.push_back(client_asks_for(kVip6));   // routed: hop limit 64
  rte_pktmbuf_mtod_offset(bad.back(), rte_ipv6_hdr*, sizeof(rte_ether_hdr))->hop_limits = 64;
  bad.push_back(client_asks_for(kVip6));   // bad checksum
  icmp_of(bad.back())[2] ^= 0x01;
  bad.push_back(client_asks_for(kVip6));   // a nonzero code
  icmp_of(bad.back())[1] = 1;
  recompute_checksum(bad.back());
  bad.push_back(client_asks_for(kVip6));   // an option of length 0
  icmp_of(bad.back())[25] = 0;
  recompute_checksum(bad.back());
  bad.push_back(client_asks_for(kVip6));   // a multicast target
  icmp_of(bad.back())[8] = 0xff;
  recompute_checksum(bad.back());
  bad.push_back(client_asks_for(kVip6));   // shorter than a message: 16 bytes
  rte_pktmbuf_mtod_offset(bad.back(), rte_ipv6_hdr*, sizeof(rte_ether_hdr))->payload_len = rte_cpu_to_be_16(16);
  recompute_checksum(bad.back());
  bad.push_back(client_asks_for(kVip6, Address()));   // a probe with a source link-layer option
  rte_pktmbuf_append(bad.back(), 8);
  icmp_of(bad.back())[24] = ND_OPT_SOURCE_LINKADDR;
  icmp_of(bad.back())[25] = 1;
  rte_pktmbuf_mtod_offset(bad.back(), rte_ipv6_hdr*, sizeof(rte_ether_hdr))->payload_len = rte_cpu_to_be_16(32);
  recompute_checksum(bad.back());
  for (rte_mbuf* m : bad) client_port().inject(m);
  lab.poll();
  CHECK(sent_frames(client_port()).empty());
  CHECK(lab.worker().neighbours->find(kClient6) == nullptr);
  CHECK_EQ(lab.drops(Drop::malformed), uint64_t(bad.size()));
  CHECK_EQ(lab.worker().counters->ports[client_port().port].nd_in, uint64_t(bad.size()));
}

TEST(nd_backup_learns_but_does_not_answer) {
  Settings s;
  s.backup = true;
  Lab lab(1, 1024, s);
  client_port().inject(client_asks_for(kVip6));
  lab.poll();
  CHECK(sent_frames(client_port()).empty());
  CHECK(reachable(lab.worker(), kClient6, kClientMac));
  CHECK_EQ(lab.drops(Drop::backup), uint64_t(1));
  lab.worker().announce = true;
  lab.poll();
  CHECK(sent_frames(client_port()).empty());   // no unsolicited advertisement either
}

TEST(nd_advertisement_resolves_a_pending_next_hop) {
  Lab lab;
  Worker& w = lab.worker();
  client_port().inject(packets::tcp(from_client6(46000), kSyn, 1, 0));
  lab.poll();
  std::vector<Seen> asked = sent_frames(server_port());
  CHECK_EQ(asked.size(), size_t(1));
  if (asked.size() != 1) return;
  const Seen& ns = asked[0];
  CHECK(ns.valid);
  CHECK_EQ(int(ns.icmp_type), ND_NEIGHBOR_SOLICIT);
  CHECK(ns.l4_checksum_ok);
  CHECK_EQ(int(ns.ttl), 255);
  CHECK_EQ(ns.source, kLip6);
  CHECK_EQ(ns.destination, packets::solicited_node(kRs6a));
  CHECK(packets::same_mac(ns.destination_mac, packets::group_mac(packets::solicited_node(kRs6a))));
  CHECK(packets::same_mac(ns.source_mac, kServerSideMac));
  CHECK_EQ(ns.nd_target, kRs6a);
  CHECK_EQ(int(ns.nd_option_type), ND_OPT_SOURCE_LINKADDR);
  CHECK(packets::same_mac(ns.nd_option_mac, kServerSideMac));

  lab.advance(Neighbours::kRetryMs);   // unanswered: asked again by the timer
  lab.poll();
  std::vector<Seen> again = sent_frames(server_port());
  CHECK_EQ(again.size(), size_t(1));
  if (!again.empty()) CHECK_EQ(again[0].nd_target, kRs6a);

  server_port().inject(server_answers(kRs6a, kRs1Mac));
  lab.poll();
  std::vector<Seen> released = sent_frames(server_port());
  CHECK_EQ(released.size(), size_t(1));
  if (!released.empty()) {
    CHECK_EQ(released[0].protocol, IPPROTO_TCP);
    CHECK_EQ(released[0].destination, kRs6a);
    CHECK(packets::same_mac(released[0].destination_mac, kRs1Mac));
    CHECK(released[0].l4_checksum_ok);
  }
  CHECK(reachable(w, kRs6a, kRs1Mac));
  CHECK_EQ(w.counters->ports[server_port().port].nd_out, uint64_t(2));
}

// Without an owned IPv6 address the answer would go to the kernel: nothing is asked, and the
// entry gives up as an unanswered ARP request's does.
TEST(nd_port_without_an_ipv6_address_does_not_ask) {
  Lab lab;
  Settings next;
  next.generation = 2;
  std::unique_ptr<Snapshot> s = snapshot(next);
  s->ports[server_port().port].owned = {kLip};
  lab.publish(std::move(s));
  client_port().inject(packets::tcp(from_client6(46002), kSyn, 1, 0));
  lab.poll();
  CHECK(sent_frames(server_port()).empty());
  lab.advance(Neighbours::kGiveUpMs);
  lab.poll();
  CHECK(sent_frames(server_port()).empty());
  CHECK_EQ(lab.drops(Drop::neighbour_queue), uint64_t(1));
  CHECK_EQ(lab.worker().counters->ports[server_port().port].nd_out, uint64_t(0));
}

TEST(nd_advertisement_about_a_stranger_teaches_nothing) {
  Lab lab;
  // To all nodes, not to us, about a host we never asked for.
  packets::Ends to_all{kRs2Mac, packets::group_mac(kAllNodes), kRs6b, kAllNodes};
  server_port().inject(packets::neighbour_advertisement(to_all, kRs6b, kOverride));
  lab.poll();
  CHECK(lab.worker().neighbours->find(kRs6b) == nullptr);
  CHECK_EQ(lab.drops(Drop::no_service), uint64_t(1));
  CHECK(sent_frames(server_port()).empty());
}

// An IPv4-mapped target is IPv4 inside the data plane (address.h): answering for it, or
// learning from it, would let an IPv6 host take over an IPv4 VIP or neighbour.
TEST(nd_ipv4_mapped_targets_are_malformed) {
  Lab lab;
  lab.seed_neighbours();
  const MacAddress attacker = packets::mac(0x66);
  server_port().inject(packets::neighbour_advertisement(packets::Ends{attacker, kServerSideMac, kRs6a, kLip6}, kRs1,
                                                        kSolicited | kOverride));
  client_port().inject(client_asks_for(kVip));
  lab.poll();
  CHECK(reachable(lab.worker(), kRs1, kRs1Mac));
  CHECK(sent_frames(client_port()).empty());
  CHECK_EQ(lab.drops(Drop::malformed), uint64_t(2));
}

TEST(nd_advertisement_without_option_teaches_its_ethernet_source) {
  Lab lab;
  client_port().inject(packets::tcp(from_client6(46001), kSyn, 1, 0));
  lab.poll();
  server_port().clear();
  server_port().inject(packets::neighbour_advertisement(packets::Ends{kRs1Mac, kServerSideMac, kRs6a, kLip6}, kRs6a,
                                                        kSolicited | kOverride, false));
  lab.poll();
  CHECK(reachable(lab.worker(), kRs6a, kRs1Mac));
  CHECK_EQ(sent_frames(server_port()).size(), size_t(1));   // the SYN
}

TEST(nd_learnt_advertisement_reaches_every_worker) {
  Lab lab(2);
  server_port().inject(server_answers(kRs6b, kRs2Mac));
  lab.poll(0);
  CHECK(reachable(lab.worker(0), kRs6b, kRs2Mac));
  CHECK(lab.worker(1).neighbours->find(kRs6b) == nullptr);
  lab.poll(1);
  CHECK(reachable(lab.worker(1), kRs6b, kRs2Mac));
  CHECK(sent_frames(server_port(), 0).empty());   // an advertisement is never answered
  CHECK(sent_frames(server_port(), 1).empty());
  CHECK_EQ(lab.worker(1).counters->ports[server_port().port].nd_in, uint64_t(0));   // a copy, not the wire's
}

TEST(nd_solicitation_copy_is_learnt_from_but_not_answered) {
  Lab lab(2);
  client_port().inject(client_asks_for(kVip6));
  lab.poll(0);
  CHECK_EQ(sent_frames(client_port(), 0).size(), size_t(1));
  lab.poll(1);
  CHECK(reachable(lab.worker(1), kClient6, kClientMac));
  CHECK(sent_frames(client_port(), 1).empty());
}

TEST(nd_announce_sends_unsolicited_advertisements) {
  Lab lab;
  lab.worker().announce = true;
  lab.poll();
  for (auto [port, address, mac] : {std::tuple{&client_port(), kVip6, kClientSideMac},
                                    std::tuple{&server_port(), kLip6, kServerSideMac}}) {
    std::vector<Seen> out = sent_frames(*port);
    std::vector<Seen> advertisements;
    for (const Seen& s : out)
      if (s.ether_type == RTE_ETHER_TYPE_IPV6) advertisements.push_back(s);
    CHECK_EQ(advertisements.size(), size_t(1));
    if (advertisements.empty()) continue;
    check_advertisement(advertisements[0], address, mac, kOverride);
    CHECK_EQ(advertisements[0].destination, kAllNodes);
    CHECK(packets::same_mac(advertisements[0].destination_mac, packets::group_mac(kAllNodes)));
  }
}
