// ICMPv6 through a worker (icmpv6.cc; neighbour discovery is nd_test.cc's): echo replies from
// owned addresses, errors about FullNAT v6 sessions translated both ways (path MTU discovery
// through the balancer), passed to the owning worker, and dropped for unknown flows (NAT64
// sessions' errors: nat64_icmp_test.cc). Checksums are verified from scratch by
// packets::see(), the quoted packet's too.
#include <netinet/icmp6.h>

#include "check.h"
#include "lab.h"
#include "quoting.h"
#include "sent.h"
#include "sessions.h"

using namespace l4lb;
using namespace lab;
using packets::Seen;
using quoting::one_frame;
using quoting::syn_at_server;
using quoting::synack_at_client;
using quoting::syn_on_two_workers;
using sent::kIsn;
using sent::kServerIsn;

namespace {

constexpr uint32_t kMtu = 1280;
const packets::Ends kServerRouter{kRs1Mac, kServerSideMac, packets::ip6("2001:db8:1::1"), kLip6};
const packets::Ends kClientRouter{kClientMac, kClientSideMac, packets::ip6("2001:db8::fe"), kVip6};

// `router` on `in` (queue `in_queue`) says `quoted` (freed) was too big; what `out` sent on
// `out_queue` once every worker ran twice, the one reading `in_queue` first.
std::vector<Seen> too_big(Lab& lab, RingPort& in, const packets::Ends& router, rte_mbuf* quoted, RingPort& out,
                          uint16_t in_queue = 0, uint16_t out_queue = 0) {
  in.inject(packets::icmp_error(router, ICMP6_PACKET_TOO_BIG, 0, quoted, kMtu), in_queue);
  rte_pktmbuf_free(quoted);
  for (int round = 0; round < 2; ++round)
    for (uint16_t i = 0; i < lab.workers.size(); ++i) lab.poll(uint16_t((in_queue + i) % lab.workers.size()));
  return sent_frames(out, out_queue);
}

// The one translated error, checksums and the quote's included; the MTU as the router said.
Seen check_error(const std::vector<Seen>& out, const Address& source, const Address& destination) {
  CHECK_EQ(out.size(), size_t(1));
  if (out.empty()) return Seen{};
  const Seen& e = out[0];
  CHECK(e.valid);
  CHECK_EQ(e.protocol, IPPROTO_ICMPV6);
  CHECK_EQ(int(e.icmp_type), ICMP6_PACKET_TOO_BIG);
  CHECK_EQ(e.icmp_word, kMtu);
  CHECK_EQ(e.source, source);
  CHECK_EQ(e.destination, destination);
  CHECK_EQ(int(e.ttl), 63);
  CHECK(e.l4_checksum_ok);
  CHECK(e.quoted_l4_checksum_ok);
  return e;
}

}  // namespace

TEST(icmpv6_echo_to_a_vip_is_answered) {
  Lab lab;
  client_port().inject(packets::icmp_echo(from_client6(0), 7, 1));
  lab.poll();
  std::vector<Seen> out = sent_frames(client_port());
  CHECK_EQ(out.size(), size_t(1));
  if (out.empty()) return;
  CHECK(out[0].valid);
  CHECK_EQ(int(out[0].icmp_type), ICMP6_ECHO_REPLY);
  CHECK_EQ(out[0].source, kVip6);
  CHECK_EQ(out[0].destination, kClient6);
  CHECK_EQ(out[0].source_port, 7);   // the echo identifier
  CHECK_EQ(int(out[0].ttl), 64);
  CHECK(out[0].l4_checksum_ok);
  CHECK(packets::same_mac(out[0].destination_mac, kClientMac));
  CHECK_EQ(lab.worker().counters->ports[client_port().port].icmp_echo, uint64_t(1));

  packets::Ends elsewhere = from_client6(0);
  elsewhere.destination = packets::ip6("2001:db8::99");
  client_port().inject(packets::icmp_echo(elsewhere, 7, 2));
  lab.poll();
  CHECK(sent_frames(client_port()).empty());
  CHECK_EQ(lab.drops(Drop::no_service), uint64_t(1));
}

TEST(icmpv6_echo_on_a_backup_is_not_answered) {
  Settings s;
  s.backup = true;
  Lab lab(1, 1024, s);
  client_port().inject(packets::icmp_echo(from_client6(0), 7, 1));
  lab.poll();
  CHECK(sent_frames(client_port()).empty());
  CHECK_EQ(lab.drops(Drop::backup), uint64_t(1));
}

TEST(icmpv6_packet_too_big_from_the_server_side_reaches_the_client) {
  Lab lab;
  lab.seed_neighbours();
  rte_mbuf* syn = syn_at_server(lab, 54000);
  if (!syn) return;
  const Seen e = check_error(too_big(lab, server_port(), kServerRouter, syn, client_port()), kVip6, kClient6);
  CHECK(packets::same_mac(e.destination_mac, kClientMac));
  CHECK_EQ(e.quoted_source, kClient6);
  CHECK_EQ(e.quoted_source_port, 54000);
  CHECK_EQ(e.quoted_destination, kVip6);
  CHECK_EQ(e.quoted_destination_port, kTcpPort);
  CHECK_EQ(e.quoted_seq, kIsn);
}

TEST(icmpv6_packet_too_big_from_the_client_side_reaches_the_server) {
  Lab lab;
  lab.seed_neighbours();
  rte_mbuf* syn = syn_at_server(lab, 54001);
  if (!syn) return;
  const uint16_t local_port = packets::see(syn).source_port;
  rte_mbuf* synack = synack_at_client(lab, syn);
  if (!synack) return;
  const Seen e = check_error(too_big(lab, client_port(), kClientRouter, synack, server_port()), kLip6, kRs6a);
  CHECK(packets::same_mac(e.destination_mac, kRs1Mac));
  CHECK_EQ(e.quoted_source, kRs6a);
  CHECK_EQ(e.quoted_source_port, kServerPort);
  CHECK_EQ(e.quoted_destination, kLip6);
  CHECK_EQ(e.quoted_destination_port, local_port);
  CHECK_EQ(e.quoted_seq, kServerIsn);
}

// The server saw the client's bytes after a PROXY header: the quote goes back in the client's
// sequence space, or the client would not recognise its own segment.
TEST(icmpv6_error_quoting_a_proxy_shifted_segment_carries_the_clients_seq) {
  Settings settings;
  settings.client_address[0] = ClientAddress::proxy_v2;
  Lab lab(1, 1024, settings);
  lab.seed_neighbours();
  rte_mbuf* syn = syn_at_server(lab, 54002);
  if (!syn) return;
  rte_pktmbuf_free(synack_at_client(lab, syn));
  client_port().inject(packets::tcp(from_client6(54002), kAck | kPsh, kIsn + 1, kServerIsn + 1, 5));
  lab.poll();
  server_port().clear();   // the first payload, behind the header
  client_port().inject(packets::tcp(from_client6(54002), kAck | kPsh, kIsn + 6, kServerIsn + 1, 100));
  lab.poll();
  rte_mbuf* shifted = one_frame(server_port());
  if (!shifted) return;
  CHECK(packets::see(shifted).seq != kIsn + 6);
  const Seen e = check_error(too_big(lab, server_port(), kServerRouter, shifted, client_port()), kVip6, kClient6);
  CHECK_EQ(e.quoted_seq, kIsn + 6);
}

TEST(icmpv6_error_reaching_another_worker_is_passed_to_the_sessions_owner) {
  Lab lab(2);
  lab.seed_neighbours();
  const auto [syn, owner, other] = syn_on_two_workers(lab, packets::tcp(from_client6(54003), kSyn, kIsn, 0));
  if (!syn) return;
  check_error(too_big(lab, server_port(), kServerRouter, syn, client_port(), other, owner), kVip6, kClient6);
  CHECK(sent_frames(client_port(), other).empty());
  CHECK_EQ(lab.worker(other).counters->redirected_out, uint64_t(1));
}

TEST(icmpv6_error_about_no_session_is_dropped) {
  Lab lab;
  lab.seed_neighbours();
  rte_mbuf* stray = packets::tcp(from_server(kRs6a, 3333), kAck, 1, 1);
  server_port().inject(packets::icmp_error(kServerRouter, ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_NOPORT, stray));
  rte_pktmbuf_free(stray);
  lab.poll();
  CHECK(sent_frames(client_port()).empty());
  CHECK_EQ(lab.drops(Drop::no_service), uint64_t(1));
}
