// FullNAT through one worker: new flows, replies, state and expiry, scheduling, UDP, drops.
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "check.h"
#include "lab.h"
#include "sessions.h"

using namespace l4lb;
using namespace lab;
using packets::Seen;

namespace {

// The single frame a port sent on `queue` (CHECKs there is exactly one).
Seen only_frame(RingPort& port, uint16_t queue = 0) {
  std::vector<rte_mbuf*> frames = port.sent(queue);
  CHECK_EQ(frames.size(), size_t(1));
  Seen seen = frames.empty() ? Seen{} : packets::see(frames[0]);
  release(frames);
  return seen;
}

// Opens a TCP flow from client port `cport` and returns the SYN as the real server saw it.
Seen open_flow(Lab& lab, uint16_t cport, uint32_t isn = 1000) {
  client_port().inject(packets::tcp(from_client(cport), kSyn, isn, 0));
  lab.poll();
  return only_frame(server_port());
}

}  // namespace

TEST(flow_tcp_syn_goes_to_a_backend_from_the_local_address) {
  Lab lab;
  lab.seed_neighbours();
  Seen syn = open_flow(lab, 40000);
  CHECK(syn.valid);
  CHECK_EQ(syn.source, kLip);
  CHECK_EQ(syn.destination, kRs1);
  CHECK_EQ(syn.destination_port, kServerPort);
  CHECK(syn.source_port >= 1024);
  CHECK_EQ(syn.flags, kSyn);
  CHECK_EQ(syn.seq, 1000u);
  CHECK_EQ(int(syn.ttl), 63);
  CHECK(syn.ip_checksum_ok);
  CHECK(syn.l4_checksum_ok);
  CHECK(packets::same_mac(syn.source_mac, kServerSideMac));
  CHECK(packets::same_mac(syn.destination_mac, kRs1Mac));
  Worker& w = lab.worker();
  CHECK_EQ(w.sessions->size(), 1u);
  CHECK_EQ(w.counters->sessions_live, uint64_t(1));
  CHECK_EQ(w.counters->services[kTcpService].new_sessions, uint64_t(1));
  CHECK_EQ(w.counters->backends[0].new_sessions, uint64_t(1));
  CHECK_EQ(w.counters->backends[0].inactive, 1u);
  CHECK_EQ(w.counters->ports[client_port().port].rx_packets, uint64_t(1));
  CHECK_EQ(w.counters->ports[server_port().port].tx_packets, uint64_t(1));
}

TEST(flow_tcp_reply_goes_to_the_client_from_the_vip) {
  Lab lab;
  lab.seed_neighbours();
  Seen syn = open_flow(lab, 40001);
  server_port().inject(packets::tcp(from_server(kRs1, syn.source_port), kSyn | kAck, 5000, 1001, 0));
  lab.poll();
  Seen synack = only_frame(client_port());
  CHECK_EQ(synack.source, kVip);
  CHECK_EQ(synack.source_port, kTcpPort);
  CHECK_EQ(synack.destination, kClient);
  CHECK_EQ(synack.destination_port, 40001);
  CHECK_EQ(synack.flags, kSyn | kAck);
  CHECK(synack.ip_checksum_ok);
  CHECK(synack.l4_checksum_ok);
  CHECK(packets::same_mac(synack.destination_mac, kClientMac));
  CHECK(packets::same_mac(synack.source_mac, kClientSideMac));

  // The client's ACK with data completes the handshake: the session becomes active.
  client_port().inject(packets::tcp(from_client(40001), kAck | kPsh, 1001, 5001, 100));
  lab.poll();
  Seen data = only_frame(server_port());
  CHECK_EQ(data.source_port, syn.source_port);
  CHECK(data.l4_checksum_ok);
  Worker& w = lab.worker();
  CHECK_EQ(w.counters->backends[0].active, 1u);
  CHECK_EQ(w.counters->backends[0].inactive, 0u);
  CHECK_EQ(w.active[0], 1u);
  CHECK_EQ(w.counters->services[kTcpService].packets_in, uint64_t(2));
  CHECK_EQ(w.counters->services[kTcpService].packets_out, uint64_t(1));
}

TEST(flow_tcp_states_and_expiry) {
  Lab lab;
  lab.seed_neighbours();
  Worker& w = lab.worker();
  Seen syn = open_flow(lab, 40002);
  WorkerRequest list;
  list.limit = 10;
  serve_request(w, list);
  CHECK_EQ(list.sessions.size(), size_t(1));
  if (list.sessions.empty()) return;
  CHECK_EQ(int(list.sessions[0].state), int(TcpState::syn_recv));
  CHECK_EQ(list.sessions[0].expires_in_ms, 30000u);
  CHECK_EQ(list.sessions[0].local_port, syn.source_port);
  CHECK_EQ(list.sessions[0].server_address, kRs1);

  server_port().inject(packets::tcp(from_server(kRs1, syn.source_port), kSyn | kAck, 5000, 1001));
  client_port().inject(packets::tcp(from_client(40002), kAck, 1001, 5001));
  lab.poll();
  WorkerRequest established;
  established.limit = 10;
  serve_request(w, established);
  CHECK_EQ(int(established.sessions.at(0).state), int(TcpState::established));
  CHECK_EQ(established.sessions.at(0).expires_in_ms, 90000u);

  // Still alive just before the idle timeout; gone (port released, counters down) after it.
  lab.advance(89000);
  lab.poll();
  CHECK_EQ(w.sessions->size(), 1u);
  lab.advance(1100);
  lab.poll();
  CHECK_EQ(w.sessions->size(), 0u);
  CHECK_EQ(w.counters->sessions_expired, uint64_t(1));
  CHECK_EQ(w.counters->sessions_live, uint64_t(0));
  CHECK_EQ(w.counters->backends[0].active, 0u);
  CHECK_EQ(w.active[0], 0u);
  CHECK_EQ(w.local_ports->in_use(kLip), 0u);
  client_port().clear();
  server_port().clear();

  // A closed connection goes quickly: RST → close state (3 s).
  syn = open_flow(lab, 40003);
  client_port().inject(packets::tcp(from_client(40003), kRst, 1001, 0));
  lab.poll();
  server_port().clear();
  lab.advance(3100);
  lab.poll();
  CHECK_EQ(w.sessions->size(), 0u);
}

TEST(flow_rr_alternates_between_backends) {
  Lab lab;
  lab.seed_neighbours();
  Seen first = open_flow(lab, 41000);
  Seen second = open_flow(lab, 41001);
  Seen third = open_flow(lab, 41002);
  CHECK_EQ(first.destination, kRs1);
  CHECK_EQ(second.destination, kRs2);
  CHECK_EQ(third.destination, kRs1);
  CHECK(packets::same_mac(second.destination_mac, kRs2Mac));
  CHECK(first.source_port != second.source_port);
}

TEST(flow_udp_request_and_response) {
  Lab lab;
  lab.seed_neighbours();
  client_port().inject(packets::udp(from_client(5353, kUdpPort), 20));
  lab.poll();
  Seen request = only_frame(server_port());
  CHECK_EQ(request.protocol, uint8_t(IPPROTO_UDP));
  CHECK_EQ(request.source, kLip);
  CHECK_EQ(request.destination, kRs1);
  CHECK_EQ(request.destination_port, kServerPort);
  CHECK(request.ip_checksum_ok);
  CHECK(request.l4_checksum_ok);
  server_port().inject(packets::udp(from_server(kRs1, request.source_port), 40));
  lab.poll();
  Seen response = only_frame(client_port());
  CHECK_EQ(response.source, kVip);
  CHECK_EQ(response.source_port, kUdpPort);
  CHECK_EQ(response.destination, kClient);
  CHECK_EQ(response.destination_port, 5353);
  CHECK(response.l4_checksum_ok);
  Worker& w = lab.worker();
  CHECK_EQ(w.counters->backends[2].active, 1u);   // UDP sessions count as active

  // A datagram without checksum keeps none.
  client_port().inject(packets::udp(from_client(5353, kUdpPort), 20, false));
  lab.poll();
  std::vector<rte_mbuf*> frames = server_port().sent();
  CHECK_EQ(frames.size(), size_t(1));
  if (!frames.empty()) {
    auto* udp = rte_pktmbuf_mtod_offset(frames[0], rte_udp_hdr*, sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr));
    CHECK_EQ(udp->dgram_cksum, 0);
  }
  release(frames);
}

TEST(flow_non_syn_without_session_is_dropped) {
  Lab lab;
  lab.seed_neighbours();
  client_port().inject(packets::tcp(from_client(42000), kAck, 1, 1));
  client_port().inject(packets::tcp(from_client(42001, 81), kSyn, 1, 0));   // no service on port 81
  server_port().inject(packets::tcp(from_server(kRs1, 2000), kAck, 1, 1)); // no session
  lab.poll();
  CHECK(client_port().sent().empty());
  CHECK(server_port().sent().empty());
  CHECK_EQ(lab.drops(Drop::no_service), uint64_t(3));
  CHECK_EQ(lab.worker().sessions->size(), 0u);
}

TEST(flow_table_full_is_counted) {
  Lab lab(1, 4);
  lab.seed_neighbours();
  Worker& w = lab.worker();
  uint32_t capacity = w.sessions->capacity();
  for (uint32_t i = 0; i <= capacity; ++i) client_port().inject(packets::tcp(from_client(uint16_t(43000 + i)), kSyn, 1, 0));
  lab.poll();
  std::vector<rte_mbuf*> out = server_port().sent();
  CHECK_EQ(out.size(), size_t(capacity));
  release(out);
  CHECK_EQ(lab.drops(Drop::table_full), uint64_t(1));
  CHECK_EQ(w.sessions->size(), capacity);
  CHECK_EQ(w.local_ports->in_use(kLip), capacity);   // the refused flow's port went back
}

TEST(flow_fragments_truncated_and_ttl_are_dropped) {
  Lab lab;
  lab.seed_neighbours();
  rte_mbuf* fragment = packets::tcp(from_client(44000), kSyn, 1, 0);
  rte_pktmbuf_mtod_offset(fragment, rte_ipv4_hdr*, sizeof(rte_ether_hdr))->fragment_offset =
      rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG);
  client_port().inject(fragment);
  rte_mbuf* truncated = packets::tcp(from_client(44001), kSyn, 1, 0);
  rte_pktmbuf_trim(truncated, 10);
  client_port().inject(truncated);
  rte_mbuf* bad_header = packets::tcp(from_client(44002), kSyn, 1, 0);
  rte_pktmbuf_mtod_offset(bad_header, rte_ipv4_hdr*, sizeof(rte_ether_hdr))->version_ihl = 0x44;
  client_port().inject(bad_header);
  packets::Ends expiring = from_client(44003);
  expiring.ttl = 1;
  client_port().inject(packets::tcp(expiring, kSyn, 1, 0));
  lab.poll();
  CHECK(server_port().sent().empty());
  CHECK_EQ(lab.drops(Drop::fragment), uint64_t(1));
  CHECK_EQ(lab.drops(Drop::malformed), uint64_t(2));
  CHECK_EQ(lab.drops(Drop::ttl), uint64_t(1));
  CHECK_EQ(lab.worker().sessions->size(), 0u);
}

TEST(flow_local_ports_exhausted_is_counted) {
  Settings settings;
  settings.port_min = 2000;
  settings.port_max = 2001;   // one worker owns both
  Lab lab(1, 1024, settings);
  lab.seed_neighbours();
  for (uint16_t i = 0; i < 3; ++i) client_port().inject(packets::tcp(from_client(uint16_t(45000 + i)), kSyn, 1, 0));
  lab.poll();
  std::vector<rte_mbuf*> out = server_port().sent();
  CHECK_EQ(out.size(), size_t(2));
  release(out);
  CHECK_EQ(lab.drops(Drop::no_local_port), uint64_t(1));
}

// One burst holding a flow's SYN and its next segment, and another flow's SYN: the lookups of
// a burst are all made in order, so the second segment finds the session the SYN opened.
TEST(flow_burst_finds_a_session_opened_earlier_in_it) {
  Lab lab;
  lab.seed_neighbours();
  client_port().inject(packets::tcp(from_client(41000), kSyn, 1000, 0));
  client_port().inject(packets::tcp(from_client(41000), kAck | kPsh, 1001, 5001, 10));
  client_port().inject(packets::tcp(from_client(41001), kSyn, 7000, 0));
  lab.poll();
  std::vector<rte_mbuf*> frames = server_port().sent();
  CHECK_EQ(frames.size(), size_t(3));
  if (frames.size() == 3) {
    const Seen first = packets::see(frames[0]), second = packets::see(frames[1]), third = packets::see(frames[2]);
    CHECK_EQ(first.flags, kSyn);
    CHECK_EQ(second.seq, 1001u);
    CHECK_EQ(second.source_port, first.source_port);
    CHECK_EQ(second.destination, first.destination);
    CHECK_EQ(third.seq, 7000u);
    CHECK(third.source_port != first.source_port);
  }
  release(frames);
  CHECK_EQ(lab.worker().sessions->size(), 2u);
  CHECK_EQ(lab.drops(Drop::no_service), uint64_t(0));
}
