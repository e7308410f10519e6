// Client address passing through a worker: TOA on the segments after the handshake and the
// SYN-ACK's MSS, PROXY protocol headers on the first payload (in place, retransmitted, in a
// segment of their own), the sequence shift both ways, UDP v2, and the mode of open sessions
// surviving a configuration change. Checksums are verified from scratch by packets::see().
#include "big_endian.h"
#include "check.h"
#include "client_address.h"
#include "lab.h"
#include "proxy_protocol.h"
#include "segments.h"
#include "sent.h"

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

// Client SYN and server SYN-ACK (with `synack_options`); returns the local port and the
// SYN-ACK as the client saw it.
uint16_t handshake(Lab& lab, uint16_t cport, Sent* synack = nullptr, const Bytes& synack_options = {}) {
  client_port().inject(segments::tcp(from_client(cport), kSyn, kIsn, 0, segments::mss(1460), ""));
  lab.poll();
  Sent syn = one(server_port());
  server_port().inject(segments::tcp(from_server(syn.seen.destination, syn.seen.source_port), kSyn | kAck, kServerIsn,
                                     kFirst, synack_options, ""));
  lab.poll();
  Sent answer = one(client_port());
  if (synack) *synack = answer;
  return syn.seen.source_port;
}

void from_client_side(uint16_t cport, uint8_t flags, uint32_t seq, const std::string& payload, const Bytes& options = {}) {
  client_port().inject(segments::tcp(from_client(cport), flags, seq, kServerIsn + 1, options, payload));
}

std::string proxy_v1(uint16_t cport) {
  return "PROXY TCP4 10.0.0.1 10.0.0.100 " + std::to_string(cport) + " 80\r\n";
}

const Bytes kToaOf41000{254, 8, 0xa0, 0x28, 10, 0, 0, 1};   // port 41000, 10.0.0.1

}  // namespace

TEST(client_address_toa_rides_after_the_handshake_until_the_server_answers) {
  Lab lab(1, 1024, with(ClientAddress::toa));
  lab.seed_neighbours();
  Sent synack;
  uint16_t lport = handshake(lab, 41000, &synack, segments::concat({segments::mss(1460), {1, 3, 3, 7}}));
  CHECK(segments::option(synack.view.options, 2) == segments::mss(1452));   // room for the option

  from_client_side(41000, kAck, kFirst, "", segments::timestamps(1, 2));
  lab.poll();
  Sent ack = one(server_port());
  CHECK(segments::option(ack.view.options, 254) == kToaOf41000);
  CHECK(segments::option(ack.view.options, 8).size() == 10);
  CHECK_EQ(ack.seen.seq, kFirst);

  from_client_side(41000, kAck | kPsh, kFirst, "GET /");   // the server has not answered yet
  lab.poll();
  Sent request = one(server_port());
  CHECK(segments::option(request.view.options, 254) == kToaOf41000);
  CHECK(request.view.payload == "GET /");

  server_port().inject(segments::tcp(from_server(kRs1, lport), kAck, kServerIsn + 1, kFirst + 5, {}, "200"));
  lab.poll();
  CHECK_EQ(one(client_port()).seen.ack, kFirst + 5);   // TOA does not shift anything
  from_client_side(41000, kAck, kFirst + 5, "more");
  lab.poll();
  CHECK(segments::option(one(server_port()).view.options, 254).empty());
  CHECK_EQ(lab.worker().counters->client_address.toa_added, uint64_t(2));
}

TEST(client_address_toa_that_does_not_fit_is_counted_and_the_segment_goes_on) {
  Lab lab(1, 1024, with(ClientAddress::toa));
  lab.seed_neighbours();
  handshake(lab, 41001);
  Bytes unknown(36, 0xaa);   // an option kind we do not know is kept: 36 + 8 > 40
  unknown[0] = 30;
  unknown[1] = 36;
  from_client_side(41001, kAck, kFirst, "", unknown);
  lab.poll();
  Sent ack = one(server_port());
  CHECK(segments::option(ack.view.options, 254).empty());
  CHECK(ack.view.options == unknown);
  CHECK_EQ(lab.worker().counters->client_address.toa_failed, uint64_t(1));
}

TEST(client_address_proxy_header_goes_before_the_first_payload_and_shifts_the_rest) {
  Lab lab(1, 1024, with(ClientAddress::proxy_v1));
  lab.seed_neighbours();
  Sent synack;
  uint16_t lport = handshake(lab, 41002, &synack, segments::mss(1460));
  CHECK(segments::option(synack.view.options, 2) == segments::mss(1460));   // PROXY leaves the MSS
  const std::string header = proxy_v1(41002);
  const uint32_t delta = uint32_t(header.size());

  from_client_side(41002, kAck, kFirst, "");   // a bare ACK: nothing inserted, nothing shifted
  lab.poll();
  Sent ack = one(server_port());
  CHECK_EQ(ack.seen.seq, kFirst);
  CHECK(ack.view.payload.empty());

  from_client_side(41002, kAck | kPsh, kFirst, "GET /");
  lab.poll();
  Sent first = one(server_port());
  CHECK(first.view.payload == header + "GET /");
  CHECK_EQ(first.seen.seq, kFirst);

  // The server acknowledges header and request and SACKs nothing yet; the client sees its own count.
  server_port().inject(segments::tcp(from_server(kRs1, lport), kAck | kPsh, kServerIsn + 1, kFirst + delta + 5, {}, "OK"));
  lab.poll();
  Sent reply = one(client_port());
  CHECK_EQ(reply.seen.ack, kFirst + 5);
  CHECK_EQ(reply.seen.seq, kServerIsn + 1);   // the server's own numbers are untouched

  from_client_side(41002, kAck | kPsh, kFirst + 5, "next");
  lab.poll();
  Sent next = one(server_port());
  CHECK_EQ(next.seen.seq, kFirst + delta + 5);
  CHECK_EQ(next.seen.ack, kServerIsn + 1);   // the client's ack is in the server's space already
  CHECK(next.view.payload == "next");

  // A SACK from the server: a hole at [first + 5, first + 9) of the client's bytes.
  Bytes sack = segments::sack({{kFirst + delta + 9, kFirst + delta + 20}});
  server_port().inject(segments::tcp(from_server(kRs1, lport), kAck, kServerIsn + 3, kFirst + delta + 5, sack, ""));
  lab.poll();
  Sent sacked = one(client_port());
  CHECK(segments::option(sacked.view.options, 5) ==
        segments::option(segments::sack({{kFirst + 9, kFirst + 20}}), 5));
  CHECK_EQ(sacked.seen.ack, kFirst + 5);

  // The first segment again (retransmitted): the same header at the same place.
  from_client_side(41002, kAck | kPsh, kFirst, "GET /");
  lab.poll();
  Sent again = one(server_port());
  CHECK(again.view.payload == header + "GET /");
  CHECK_EQ(again.seen.seq, kFirst);

  // A FIN after everything is shifted too; the counters saw two headers.
  from_client_side(41002, kAck | kFin, kFirst + 9, "");
  lab.poll();
  CHECK_EQ(one(server_port()).seen.seq, kFirst + delta + 9);
  CHECK_EQ(lab.worker().counters->client_address.proxy_headers, uint64_t(2));
}

TEST(client_address_proxy_v2_rides_on_data_in_the_third_ack) {
  Lab lab(1, 1024, with(ClientAddress::proxy_v2));
  lab.seed_neighbours();
  handshake(lab, 41003);
  from_client_side(41003, kAck | kPsh, kFirst, "hello");
  lab.poll();
  Sent first = one(server_port());
  uint8_t expected[kProxyHeaderMax];
  uint16_t n = proxy_header(ClientAddress::proxy_v2, FlowKey{kClient, kVip, 41003, kTcpPort, IPPROTO_TCP}, expected);
  CHECK_EQ(n, uint16_t(28));
  CHECK(first.view.payload == std::string(reinterpret_cast<char*>(expected), n) + "hello");
}

TEST(client_address_proxy_header_that_cannot_fit_goes_in_its_own_segment) {
  Lab lab(1, 1024, with(ClientAddress::proxy_v1));
  lab.seed_neighbours();
  handshake(lab, 41004);
  const std::string header = proxy_v1(41004), full(1460, 'f');   // 1500 bytes: no room to grow
  from_client_side(41004, kAck | kPsh, kFirst, full);
  lab.poll();
  std::vector<Sent> out = sent::all(server_port());
  CHECK_EQ(out.size(), size_t(2));
  if (out.size() != 2) return;
  CHECK(out[0].view.payload == header);
  CHECK_EQ(out[0].seen.seq, kFirst);
  CHECK_EQ(int(out[0].seen.flags), int(kAck | kPsh));
  CHECK(out[1].view.payload == full);
  CHECK_EQ(out[1].seen.seq, kFirst + uint32_t(header.size()));
  for (const Sent& s : out) CHECK(s.seen.ip_checksum_ok && s.seen.l4_checksum_ok);
  CHECK_EQ(lab.worker().counters->client_address.proxy_own_segments, uint64_t(1));
}

TEST(client_address_udp_gets_a_v2_header_on_its_first_datagram_only) {
  Lab lab(1, 1024, with(ClientAddress::none, ClientAddress::proxy_v2));
  lab.seed_neighbours();
  uint8_t expected[kProxyHeaderMax];
  uint16_t n = proxy_header(ClientAddress::proxy_v2, FlowKey{kClient, kVip, 41005, kUdpPort, IPPROTO_UDP}, expected);
  client_port().inject(segments::udp(from_client(41005, kUdpPort), "query-1"));
  lab.poll();
  Sent first = one(server_port());
  CHECK(first.view.payload == std::string(reinterpret_cast<char*>(expected), n) + "query-1");
  CHECK_EQ(size_t(first.view.udp_length), 8 + n + 7u);
  client_port().inject(segments::udp(from_client(41005, kUdpPort), "query-2"));
  lab.poll();
  CHECK(one(server_port()).view.payload == "query-2");
}

TEST(client_address_mode_of_an_open_session_survives_a_configuration_change) {
  Lab lab(1, 1024, with(ClientAddress::proxy_v1));
  lab.seed_neighbours();
  handshake(lab, 41006);
  Settings changed = with(ClientAddress::none);
  changed.generation = 2;
  lab.publish(snapshot(changed));

  from_client_side(41006, kAck | kPsh, kFirst, "old");   // opened under proxy-protocol-v1
  lab.poll();
  CHECK(one(server_port()).view.payload == proxy_v1(41006) + "old");

  handshake(lab, 41007);   // a new session follows the new mode
  from_client_side(41007, kAck | kPsh, kFirst, "new");
  lab.poll();
  CHECK(one(server_port()).view.payload == "new");
}

TEST(client_address_reset_to_the_server_uses_its_shifted_sequence) {
  Lab lab(1, 1024, with(ClientAddress::proxy_v2));
  lab.seed_neighbours();
  handshake(lab, 41008);
  from_client_side(41008, kAck | kPsh, kFirst, "abc");
  lab.poll();
  sent::all(server_port());
  uint32_t index = kNoSession;
  lab.worker().sessions->for_each([&](uint32_t i) { index = i; });
  CHECK(index != kNoSession);
  if (index == kNoSession) return;
  const Session& s = lab.worker().sessions->at(index);
  CHECK_EQ(server_side_seq(s, s.client_next_seq), kFirst + 28 + 3);
  CHECK_EQ(server_side_seq(s, kFirst), kFirst + 28);
}

TEST(client_address_icmp_error_quoting_a_shifted_segment_reaches_the_client_unshifted) {
  Lab lab(1, 1024, with(ClientAddress::proxy_v1));
  lab.seed_neighbours();
  handshake(lab, 41009);
  const uint32_t delta = uint32_t(proxy_v1(41009).size());
  from_client_side(41009, kAck | kPsh, kFirst, "GET /");
  lab.poll();
  sent::all(server_port());
  from_client_side(41009, kAck | kPsh, kFirst + 5, std::string(1000, 'b'));
  lab.poll();
  std::vector<rte_mbuf*> shifted = server_port().sent();
  CHECK_EQ(shifted.size(), size_t(1));
  if (shifted.empty()) return;
  CHECK_EQ(packets::see(shifted[0]).seq, kFirst + delta + 5);
  // A router on the server side: too big, quoting the segment as it saw it.
  packets::Ends router{kRs1Mac, kServerSideMac, packets::ip(10, 1, 0, 1), kLip, 0, 0};
  server_port().inject(packets::icmp_error(router, 3, 4, shifted[0]));
  release(shifted);
  lab.poll();
  std::vector<rte_mbuf*> out = client_port().sent();
  CHECK_EQ(out.size(), size_t(1));
  if (out.empty()) return;
  Seen e = packets::see(out[0]);
  CHECK(e.l4_checksum_ok);
  CHECK(e.quoted_ip_checksum_ok);
  CHECK_EQ(e.quoted_source_port, 41009);
  constexpr uint32_t kQuotedSeq = sizeof(rte_ether_hdr) + 20 + 8 + 20 + 4;   // ICMP, quoted IP, TCP seq
  CHECK_EQ(l4lb::get32(rte_pktmbuf_mtod_offset(out[0], const uint8_t*, kQuotedSeq)), kFirst + 5);
  release(out);
}
