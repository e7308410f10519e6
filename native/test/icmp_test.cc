// ICMP through a worker: echo replies from owned addresses, errors translated across the NAT.
#include <rte_icmp.h>

#include "check.h"
#include "lab.h"
#include "sessions.h"

using namespace l4lb;
using namespace lab;
using packets::Seen;

namespace {

constexpr uint8_t kUnreachable = 3, kFragmentationNeeded = 4, kPortUnreachable = 3;

}  // namespace

TEST(icmp_echo_to_a_vip_is_answered) {
  Lab lab;
  client_port().inject(packets::icmp_echo(from_client(0), 7, 1));
  lab.poll();
  std::vector<Seen> out = sent_frames(client_port());
  CHECK_EQ(out.size(), size_t(1));
  if (out.empty()) return;
  CHECK_EQ(out[0].icmp_type, RTE_IP_ICMP_ECHO_REPLY);
  CHECK_EQ(out[0].source, kVip);
  CHECK_EQ(out[0].destination, kClient);
  CHECK_EQ(out[0].source_port, 7);   // the echo identifier
  CHECK(out[0].ip_checksum_ok);
  CHECK(out[0].l4_checksum_ok);
  CHECK(packets::same_mac(out[0].destination_mac, kClientMac));
  CHECK_EQ(lab.worker().counters->ports[client_port().port].icmp_echo, uint64_t(1));

  packets::Ends elsewhere = from_client(0);
  elsewhere.destination = packets::ip(10, 0, 0, 99);
  client_port().inject(packets::icmp_echo(elsewhere, 7, 2));
  lab.poll();
  CHECK(sent_frames(client_port()).empty());
  CHECK_EQ(lab.drops(Drop::no_service), uint64_t(1));
}

TEST(icmp_error_from_the_server_side_reaches_the_client) {
  Lab lab;
  lab.seed_neighbours();
  client_port().inject(packets::tcp(from_client(54000), kSyn, 1000, 0));
  lab.poll();
  std::vector<rte_mbuf*> sent = server_port().sent();
  CHECK_EQ(sent.size(), size_t(1));
  if (sent.empty()) return;
  // A router on the server side says the SYN was too big, quoting it as it saw it.
  packets::Ends router{kRs1Mac, kServerSideMac, packets::ip(10, 1, 0, 1), kLip, 0, 0};
  server_port().inject(packets::icmp_error(router, kUnreachable, kFragmentationNeeded, sent[0]));
  release(sent);
  lab.poll();
  std::vector<Seen> out = sent_frames(client_port());
  CHECK_EQ(out.size(), size_t(1));
  if (out.empty()) return;
  const Seen& e = out[0];
  CHECK_EQ(e.icmp_type, kUnreachable);
  CHECK_EQ(e.source, kVip);
  CHECK_EQ(e.destination, kClient);
  CHECK_EQ(e.quoted_source, kClient);
  CHECK_EQ(e.quoted_source_port, 54000);
  CHECK_EQ(e.quoted_destination, kVip);
  CHECK_EQ(e.quoted_destination_port, kTcpPort);
  CHECK(e.ip_checksum_ok);
  CHECK(e.l4_checksum_ok);
  CHECK(e.quoted_ip_checksum_ok);
}

TEST(icmp_error_from_the_client_side_reaches_the_server) {
  Lab lab;
  lab.seed_neighbours();
  client_port().inject(packets::udp(from_client(5000, kUdpPort)));
  lab.poll();
  std::vector<Seen> request = sent_frames(server_port());
  CHECK_EQ(request.size(), size_t(1));
  if (request.empty()) return;
  server_port().inject(packets::udp(from_server(kRs1, request[0].source_port), 12));
  lab.poll();
  std::vector<rte_mbuf*> response = client_port().sent();
  CHECK_EQ(response.size(), size_t(1));
  if (response.empty()) return;
  // The client's port is closed by now.
  packets::Ends client{kClientMac, kClientSideMac, kClient, kVip, 0, 0};
  client_port().inject(packets::icmp_error(client, kUnreachable, kPortUnreachable, response[0]));
  release(response);
  lab.poll();
  std::vector<Seen> out = sent_frames(server_port());
  CHECK_EQ(out.size(), size_t(1));
  if (out.empty()) return;
  const Seen& e = out[0];
  CHECK_EQ(e.source, kLip);
  CHECK_EQ(e.destination, kRs1);
  CHECK_EQ(e.quoted_source, kRs1);
  CHECK_EQ(e.quoted_source_port, kServerPort);
  CHECK_EQ(e.quoted_destination, kLip);
  CHECK_EQ(e.quoted_destination_port, request[0].source_port);
  CHECK(e.ip_checksum_ok);
  CHECK(e.l4_checksum_ok);
  CHECK(e.quoted_ip_checksum_ok);
}

TEST(icmp_error_about_no_session_is_dropped) {
  Lab lab;
  lab.seed_neighbours();
  rte_mbuf* stray = packets::tcp(from_server(kRs1, 3333), kAck, 1, 1);
  packets::Ends router{kRs1Mac, kServerSideMac, packets::ip(10, 1, 0, 1), kLip, 0, 0};
  server_port().inject(packets::icmp_error(router, kUnreachable, kPortUnreachable, stray));
  rte_pktmbuf_free(stray);
  lab.poll();
  CHECK(sent_frames(client_port()).empty());
  CHECK_EQ(lab.drops(Drop::no_service), uint64_t(1));
}
