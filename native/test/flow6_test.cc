// IPv6 through one worker: FullNAT v6 for TCP and UDP, NAT64 both ways, client address passing
// for IPv6 clients (TOA's 20-byte form, PROXY TCP6 and AF_INET6), what is dropped and why, and
// IPv4 and IPv6 sessions side by side in one table. Checksums are verified from scratch by
// packets::see() (the IPv6 pseudo-header for IPv6, the IPv4 one after NAT64).
#include <rte_ip.h>

#include "check.h"
#include "lab.h"
#include "segments.h"
#include "sent.h"
#include "sessions.h"

using namespace l4lb;
using namespace lab;
using packets::Seen;
using segments::Bytes;
using sent::Sent;
using sent::kFirst;
using sent::kIsn;
using sent::kServerIsn;
using sent::one;
using sent::with;

namespace {

// The client's SYN to kVip6:`service_port` and the server's SYN-ACK; returns the SYN as the
// server saw it (and the SYN-ACK as the client saw it).
Sent handshake(Lab& lab, uint16_t cport, uint16_t service_port, Sent* synack = nullptr, const Bytes& synack_options = {}) {
  client_port().inject(segments::tcp(from_client6(cport, service_port), kSyn, kIsn, 0, segments::mss(1440), ""));
  lab.poll();
  Sent syn = one(server_port());
  server_port().inject(segments::tcp(from_server(syn.seen.destination, syn.seen.source_port), kSyn | kAck, kServerIsn,
                                     kFirst, synack_options, ""));
  lab.poll();
  Sent answer = one(client_port());
  if (synack) *synack = answer;
  return syn;
}

// A frame of the client's flow with its IPv6 next header replaced by `next_header`.
rte_mbuf* with_next_header(uint16_t cport, uint8_t next_header) {
  rte_mbuf* m = packets::tcp(from_client6(cport), kSyn, kIsn, 0);
  rte_pktmbuf_mtod_offset(m, rte_ipv6_hdr*, sizeof(rte_ether_hdr))->proto = next_header;
  return m;
}

}  // namespace

TEST(flow6_tcp_goes_from_the_ipv6_local_address_and_comes_back_from_the_vip) {
  Lab lab;
  lab.seed_neighbours();
  Sent synack;
  Sent syn = handshake(lab, 42000, kTcpPort, &synack);
  CHECK_EQ(syn.seen.ether_type, RTE_ETHER_TYPE_IPV6);
  CHECK_EQ(syn.seen.source, kLip6);
  CHECK_EQ(syn.seen.destination, kRs6a);
  CHECK_EQ(syn.seen.destination_port, kServerPort);
  CHECK_EQ(int(syn.seen.ttl), 63);   // the hop limit, decremented
  CHECK(packets::same_mac(syn.seen.destination_mac, kRs1Mac));
  CHECK_EQ(synack.seen.ether_type, RTE_ETHER_TYPE_IPV6);
  CHECK_EQ(synack.seen.source, kVip6);
  CHECK_EQ(synack.seen.source_port, kTcpPort);
  CHECK_EQ(synack.seen.destination, kClient6);
  CHECK_EQ(synack.seen.destination_port, 42000);
  CHECK(packets::same_mac(synack.seen.destination_mac, kClientMac));

  client_port().inject(segments::tcp(from_client6(42000), kAck | kPsh, kFirst, kServerIsn + 1, {}, "GET /"));
  lab.poll();
  Sent data = one(server_port());
  CHECK(data.view.payload == "GET /");
  Worker& w = lab.worker();
  CHECK_EQ(w.counters->services[kTcp6Service].new_sessions, uint64_t(1));
  CHECK_EQ(w.counters->backends[2 * kTcp6Service].active, 1u);
}

TEST(flow6_udp_both_ways) {
  Lab lab;
  lab.seed_neighbours();
  client_port().inject(segments::udp(from_client6(42001, kUdpPort), "query"));
  lab.poll();
  Sent query = one(server_port());
  CHECK_EQ(query.seen.source, kLip6);
  CHECK_EQ(query.seen.protocol, uint8_t(IPPROTO_UDP));
  CHECK(query.view.payload == "query");
  server_port().inject(segments::udp(from_server(query.seen.destination, query.seen.source_port), "answer"));
  lab.poll();
  Sent answer = one(client_port());
  CHECK_EQ(answer.seen.source, kVip6);
  CHECK_EQ(answer.seen.source_port, kUdpPort);
  CHECK_EQ(answer.seen.destination, kClient6);
  CHECK(answer.view.payload == "answer");
}

TEST(flow6_nat64_sends_ipv4_to_the_server_and_ipv6_back_to_the_client) {
  Lab lab;
  lab.seed_neighbours();
  Sent synack;
  Sent syn = handshake(lab, 42002, kNat64Port, &synack);
  CHECK_EQ(syn.seen.ether_type, RTE_ETHER_TYPE_IPV4);
  CHECK_EQ(syn.seen.source, kLip);
  CHECK_EQ(syn.seen.destination, kRs1);
  CHECK_EQ(int(syn.seen.ttl), 63);
  CHECK_EQ(syn.view.ip_total_length, uint16_t(20 + 24));   // IPv4 header, TCP with the MSS option
  CHECK_EQ(synack.seen.ether_type, RTE_ETHER_TYPE_IPV6);
  CHECK_EQ(synack.seen.source, kVip6);
  CHECK_EQ(synack.seen.source_port, kNat64Port);
  CHECK_EQ(synack.seen.destination, kClient6);
  CHECK_EQ(synack.seen.seq, kServerIsn);

  client_port().inject(segments::tcp(from_client6(42002, kNat64Port), kAck | kPsh, kFirst, kServerIsn + 1, {}, "hello"));
  lab.poll();
  Sent data = one(server_port());
  CHECK_EQ(data.seen.ether_type, RTE_ETHER_TYPE_IPV4);
  CHECK(data.view.payload == "hello");
  server_port().inject(
      segments::tcp(from_server(kRs1, syn.seen.source_port), kAck | kPsh, kServerIsn + 1, kFirst + 5, {}, "world"));
  lab.poll();
  Sent reply = one(client_port());
  CHECK_EQ(reply.seen.ether_type, RTE_ETHER_TYPE_IPV6);
  CHECK(reply.view.payload == "world");
  CHECK_EQ(lab.worker().counters->services[kNat64Service].packets_out, uint64_t(2));
}

TEST(flow6_toa_carries_the_ipv6_client_in_twenty_bytes) {
  for (uint16_t service_port : {kTcpPort, kNat64Port}) {   // to an IPv6 server, and through NAT64
    Lab lab(1, 1024, with(ClientAddress::toa));
    lab.seed_neighbours();
    Sent synack;
    handshake(lab, 42003, service_port, &synack, segments::mss(1460));
    CHECK(segments::option(synack.view.options, 2) == segments::mss(1440));   // room for 20 bytes
    client_port().inject(segments::tcp(from_client6(42003, service_port), kAck, kFirst, kServerIsn + 1, {}, ""));
    lab.poll();
    Sent ack = one(server_port());
    Bytes toa = segments::option(ack.view.options, 254);
    CHECK_EQ(toa.size(), size_t(20));
    if (toa.size() != 20) continue;
    CHECK_EQ(int(toa[1]), 20);
    CHECK_EQ(toa[2] << 8 | toa[3], 42003);
    uint8_t client[16];
    kClient6.copy_to(client);
    CHECK(Bytes(toa.begin() + 4, toa.end()) == Bytes(client, client + 16));
  }
}

TEST(flow6_proxy_headers_name_the_ipv6_client) {
  for (uint16_t service_port : {kTcpPort, kNat64Port}) {
    Lab lab(1, 1024, with(ClientAddress::proxy_v1));
    lab.seed_neighbours();
    handshake(lab, 42004, service_port);
    client_port().inject(segments::tcp(from_client6(42004, service_port), kAck | kPsh, kFirst, kServerIsn + 1, {}, "GET /"));
    lab.poll();
    Sent request = one(server_port());
    const std::string header =
        "PROXY TCP6 2001:db8::1 2001:db8::100 42004 " + std::to_string(service_port) + "\r\n";
    CHECK(request.view.payload == header + "GET /");
    CHECK_EQ(request.seen.seq, kFirst);
  }
  Lab lab(1, 1024, with(ClientAddress::none, ClientAddress::proxy_v2));
  lab.seed_neighbours();
  client_port().inject(segments::udp(from_client6(42005, kUdpPort), "query"));
  lab.poll();
  Sent query = one(server_port());
  CHECK_EQ(query.view.payload.size(), size_t(52 + 5));
  if (query.view.payload.size() == 57) {
    CHECK_EQ(int(uint8_t(query.view.payload[13])), 0x22);   // AF_INET6, DGRAM
    CHECK(query.view.payload.substr(52) == "query");
  }
}

TEST(flow6_extension_headers_and_fragments_are_dropped_by_reason) {
  Lab lab;
  lab.seed_neighbours();
  for (uint8_t header : {uint8_t(IPPROTO_HOPOPTS), uint8_t(IPPROTO_ROUTING), uint8_t(IPPROTO_DSTOPTS)})
    client_port().inject(with_next_header(42006, header));
  client_port().inject(with_next_header(42007, IPPROTO_FRAGMENT));
  packets::Ends last_hop = from_client6(42008);
  last_hop.ttl = 1;
  client_port().inject(packets::tcp(last_hop, kSyn, kIsn, 0));
  lab.poll();
  CHECK(server_port().sent().empty());
  CHECK_EQ(lab.drops(Drop::extension_header), uint64_t(3));
  CHECK_EQ(lab.drops(Drop::fragment), uint64_t(1));
  CHECK_EQ(lab.drops(Drop::ttl), uint64_t(1));
  CHECK_EQ(lab.worker().sessions->size(), 0u);
}

// IPv4-mapped addresses are IPv4 inside the data plane (address.h): one in an IPv6 header
// would pose as an IPv4 VIP or client, so such a packet is malformed (RFC 4291 2.5.5.2).
TEST(flow6_ipv4_mapped_addresses_on_the_wire_are_malformed) {
  Lab lab;
  lab.seed_neighbours();
  packets::Ends to_mapped_vip = from_client6(42010);
  to_mapped_vip.destination = kVip;   // in an IPv6 header: ::ffff:10.0.0.100
  packets::Ends from_mapped_client = from_client6(42011);
  from_mapped_client.source = kClient;
  client_port().inject(packets::tcp(to_mapped_vip, kSyn, kIsn, 0));
  client_port().inject(packets::tcp(from_mapped_client, kSyn, kIsn, 0));
  lab.poll();
  CHECK(server_port().sent().empty());
  CHECK_EQ(lab.drops(Drop::malformed), uint64_t(2));
  CHECK_EQ(lab.worker().sessions->size(), 0u);
}

TEST(flow6_ipv4_and_ipv6_sessions_share_one_table) {
  Lab lab;
  lab.seed_neighbours();
  handshake(lab, 42009, kTcpPort);
  client_port().inject(packets::tcp(from_client(42009), kSyn, kIsn, 0));   // same port, IPv4
  lab.poll();
  CHECK_EQ(one(server_port()).seen.destination, kRs1);
  Worker& w = lab.worker();
  CHECK_EQ(w.sessions->size(), 2u);
  WorkerRequest list;
  list.limit = 10;
  list.filter.client_address = kClient6;
  serve_request(w, list);
  CHECK_EQ(list.sessions.size(), size_t(1));
  if (list.sessions.empty()) return;
  CHECK_EQ(list.sessions[0].client_address, kClient6);
  CHECK_EQ(list.sessions[0].virtual_address, kVip6);
  CHECK_EQ(list.sessions[0].local_address, kLip6);
  CHECK_EQ(list.sessions[0].server_address, kRs6a);
}
