// ICMP errors about NAT64 sessions (icmp_translate.cc): ICMP from the IPv4 side reaches the
// IPv6 client as ICMPv6 (RFC 7915 4.2), ICMPv6 from the client reaches the IPv4 server as ICMP
// (5.2), with the types, codes, MTUs and pointers mapped, the quote rebuilt in the other family
// and cut to the family's least MTU; what has no equivalent is dropped as `translation`. Every
// checksum is verified from scratch by packets::see(): the outer IPv4 header's, ICMP's, ICMPv6's
// over its pseudo-header, the quoted IPv4 header's, and the quoted TCP header's when whole.
#include <netinet/icmp6.h>
#include <netinet/ip_icmp.h>

#include "check.h"
#include "lab.h"
#include "quoting.h"
#include "sent.h"
#include "sessions.h"

using namespace l4lb;
using namespace lab;
using packets::Seen;
using quoting::one_frame;
using quoting::syn_on_two_workers;
using sent::kIsn;
using sent::kServerIsn;

namespace {

constexpr uint16_t kClientPort = 55000;
const packets::Ends kRouter4{kRs1Mac, kServerSideMac, packets::ip(10, 1, 0, 1), kLip};
const packets::Ends kClientRouter{kClientMac, kClientSideMac, packets::ip6("2001:db8::fe"), kVip6};

// A NAT64 session from kClient6:kClientPort to kVip6:kNat64Port, its SYN (local address → RS1)
// kept to be quoted.
struct Nat64 {
  Lab lab;
  rte_mbuf* syn;
  uint16_t local_port;

  explicit Nat64(const Settings& settings = {}) : lab(1, 1024, settings) {
    lab.seed_neighbours();
    syn = quoting::syn_at_server(lab, kClientPort, kNat64Port);
    local_port = syn ? packets::see(syn).source_port : 0;
  }
  ~Nat64() { rte_pktmbuf_free(syn); }
  // The server's SYN-ACK as the client received it (RS1 → VIP), kept; the SYN is gone then.
  rte_mbuf* synack() {
    rte_mbuf* m = syn ? quoting::synack_at_client(lab, syn) : nullptr;
    syn = nullptr;
    return m;
  }
  // `error` into `in`; the one frame `out` sent, kept (null, CHECK failed, if none or several).
  rte_mbuf* through(RingPort& in, rte_mbuf* error, RingPort& out) {
    in.inject(error);
    lab.poll();
    return one_frame(out);
  }
  // `error` from the IPv4 router about the SYN, and the client's `error` about `synack`, as sent on.
  rte_mbuf* to_client(uint8_t type, uint8_t code, uint32_t word = 0, bool quote_all = false) {
    return through(server_port(), packets::icmp_error(kRouter4, type, code, syn, word, quote_all), client_port());
  }
  rte_mbuf* to_server(const rte_mbuf* synack, uint8_t type, uint8_t code, uint32_t word = 0) {
    return through(client_port(), packets::icmp_error(kClientRouter, type, code, synack, word), server_port());
  }
};

// The ICMPv6 error the client got (freed): from the VIP, quoting its segment (`seq`) to the
// VIP, every checksum valid; null gives an invalid Seen.
Seen check_to_client(rte_mbuf* m, uint8_t type, uint8_t code, uint32_t word, uint32_t seq = kIsn) {
  if (!m) return Seen{};
  const Seen e = packets::see(m);
  rte_pktmbuf_free(m);
  CHECK(e.valid);
  CHECK_EQ(e.ether_type, RTE_ETHER_TYPE_IPV6);
  CHECK_EQ(e.protocol, uint8_t(IPPROTO_ICMPV6));
  CHECK_EQ(int(e.icmp_type), int(type));
  CHECK_EQ(int(e.icmp_code), int(code));
  CHECK_EQ(e.icmp_word, word);
  CHECK_EQ(e.source, kVip6);
  CHECK_EQ(e.destination, kClient6);
  CHECK_EQ(int(e.ttl), 63);   // the router's 64, forwarded
  CHECK(packets::same_mac(e.destination_mac, kClientMac));
  CHECK(e.l4_checksum_ok);
  CHECK_EQ(e.quoted_source, kClient6);
  CHECK_EQ(e.quoted_source_port, kClientPort);
  CHECK_EQ(e.quoted_destination, kVip6);
  CHECK_EQ(e.quoted_destination_port, kNat64Port);
  CHECK_EQ(e.quoted_seq, seq);
  return e;
}

// The ICMP error the server got (freed): from the local address, DF clear, quoting the
// SYN-ACK as RS1 sent it, every checksum valid.
Seen check_to_server(rte_mbuf* m, uint16_t local_port, uint8_t type, uint8_t code, uint32_t word) {
  if (!m) return Seen{};
  const Seen e = packets::see(m);
  const auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, sizeof(rte_ether_hdr));
  CHECK_EQ(ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG), 0);
  rte_pktmbuf_free(m);
  CHECK(e.valid);
  CHECK_EQ(e.ether_type, RTE_ETHER_TYPE_IPV4);
  CHECK_EQ(e.protocol, uint8_t(IPPROTO_ICMP));
  CHECK_EQ(int(e.icmp_type), int(type));
  CHECK_EQ(int(e.icmp_code), int(code));
  CHECK_EQ(e.icmp_word, word);
  CHECK_EQ(e.source, kLip);
  CHECK_EQ(e.destination, kRs1);
  CHECK_EQ(int(e.ttl), 63);
  CHECK(packets::same_mac(e.destination_mac, kRs1Mac));
  CHECK(e.ip_checksum_ok);
  CHECK(e.l4_checksum_ok);
  CHECK(e.quoted_ip_checksum_ok);
  CHECK(e.quoted_l4_checksum_ok);   // ICMPv6 quoted the SYN-ACK whole
  CHECK_EQ(e.quoted_source, kRs1);
  CHECK_EQ(e.quoted_source_port, kServerPort);
  CHECK_EQ(e.quoted_destination, kLip);
  CHECK_EQ(e.quoted_destination_port, local_port);
  CHECK_EQ(e.quoted_seq, kServerIsn);
  return e;
}

}  // namespace

TEST(nat64_icmp_fragmentation_needed_becomes_packet_too_big) {
  Nat64 n;
  if (!n.syn) return;
  // Quoted whole, the SYN's TCP checksum is checked over the IPv6 pseudo-header.
  Seen e = check_to_client(n.to_client(ICMP_UNREACH, ICMP_UNREACH_NEEDFRAG, 1400, true), ICMP6_PACKET_TOO_BIG, 0, 1420);
  CHECK(e.quoted_l4_checksum_ok);
  // Below IPv6's minimum, and from a router that gives no MTU (RFC 1191's plateau below the
  // 40-byte SYN): 1280.
  check_to_client(n.to_client(ICMP_UNREACH, ICMP_UNREACH_NEEDFRAG, 1000), ICMP6_PACKET_TOO_BIG, 0, 1280);
  check_to_client(n.to_client(ICMP_UNREACH, ICMP_UNREACH_NEEDFRAG, 0), ICMP6_PACKET_TOO_BIG, 0, 1280);
  // Never above the client side's MTU (1500).
  check_to_client(n.to_client(ICMP_UNREACH, ICMP_UNREACH_NEEDFRAG, 4000), ICMP6_PACKET_TOO_BIG, 0, 1500);
}

TEST(nat64_icmp_packet_too_big_is_bounded_by_the_server_sides_mtu_plus_20) {
  Settings settings;
  settings.server_mtu = 1300;
  Nat64 n(settings);
  if (!n.syn) return;
  check_to_client(n.to_client(ICMP_UNREACH, ICMP_UNREACH_NEEDFRAG, 1400), ICMP6_PACKET_TOO_BIG, 0, 1320);
}

TEST(nat64_icmpv6_packet_too_big_becomes_fragmentation_needed) {
  Nat64 n;
  rte_mbuf* synack = n.synack();
  if (!synack) return;
  check_to_server(n.to_server(synack, ICMP6_PACKET_TOO_BIG, 0, 1280), n.local_port, ICMP_UNREACH, ICMP_UNREACH_NEEDFRAG,
                  1260);
  // Bounded by the client side's MTU (1500) less 20.
  check_to_server(n.to_server(synack, ICMP6_PACKET_TOO_BIG, 0, 9000), n.local_port, ICMP_UNREACH, ICMP_UNREACH_NEEDFRAG,
                  1480);
  rte_pktmbuf_free(synack);
}

TEST(nat64_icmp_port_unreachable_both_ways) {
  Nat64 n;
  if (!n.syn) return;
  check_to_client(n.to_client(ICMP_UNREACH, ICMP_UNREACH_PORT), ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_NOPORT, 0);
  rte_mbuf* synack = n.synack();
  if (!synack) return;
  check_to_server(n.to_server(synack, ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_NOPORT), n.local_port, ICMP_UNREACH,
                  ICMP_UNREACH_PORT, 0);
  rte_pktmbuf_free(synack);
}

TEST(nat64_icmp_destination_unreachable_codes_map) {
  Nat64 n;
  if (!n.syn) return;
  check_to_client(n.to_client(ICMP_UNREACH, ICMP_UNREACH_HOST), ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_NOROUTE, 0);
  check_to_client(n.to_client(ICMP_UNREACH, ICMP_UNREACH_FILTER_PROHIB), ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_ADMIN, 0);
  rte_mbuf* synack = n.synack();
  if (!synack) return;
  check_to_server(n.to_server(synack, ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_ADDR), n.local_port, ICMP_UNREACH,
                  ICMP_UNREACH_HOST, 0);
  check_to_server(n.to_server(synack, ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_ADMIN), n.local_port, ICMP_UNREACH,
                  ICMP_UNREACH_HOST_PROHIB, 0);
  rte_pktmbuf_free(synack);
}

TEST(nat64_icmp_time_exceeded_both_ways) {
  Nat64 n;
  if (!n.syn) return;
  check_to_client(n.to_client(ICMP_TIMXCEED, ICMP_TIMXCEED_INTRANS), ICMP6_TIME_EXCEEDED, ICMP6_TIME_EXCEED_TRANSIT, 0);
  rte_mbuf* synack = n.synack();
  if (!synack) return;
  check_to_server(n.to_server(synack, ICMP6_TIME_EXCEEDED, ICMP6_TIME_EXCEED_REASSEMBLY), n.local_port, ICMP_TIMXCEED,
                  ICMP_TIMXCEED_REASS, 0);
  rte_pktmbuf_free(synack);
}

// RFC 7915 Figures 3 and 6: a pointer at a field both headers have moves to its place in the
// other; "protocol unreachable" and "unrecognized next header" are each other's.
TEST(nat64_icmp_parameter_problem_pointers_map) {
  Nat64 n;
  if (!n.syn) return;
  // ICMP's pointer is its fifth byte: at the protocol, then (bad length) into the destination.
  check_to_client(n.to_client(ICMP_PARAMPROB, 0, 9u << 24), ICMP6_PARAM_PROB, ICMP6_PARAMPROB_HEADER, 6);
  check_to_client(n.to_client(ICMP_PARAMPROB, 2, 17u << 24), ICMP6_PARAM_PROB, ICMP6_PARAMPROB_HEADER, 24);
  check_to_client(n.to_client(ICMP_UNREACH, ICMP_UNREACH_PROTOCOL), ICMP6_PARAM_PROB, ICMP6_PARAMPROB_NEXTHEADER, 6);
  rte_mbuf* synack = n.synack();
  if (!synack) return;
  check_to_server(n.to_server(synack, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_HEADER, 7), n.local_port, ICMP_PARAMPROB, 0,
                  8u << 24);   // hop limit → TTL, in ICMP's fifth byte
  check_to_server(n.to_server(synack, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_HEADER, 10), n.local_port, ICMP_PARAMPROB, 0,
                  12u << 24);   // into the source address
  check_to_server(n.to_server(synack, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_NEXTHEADER), n.local_port, ICMP_UNREACH,
                  ICMP_UNREACH_PROTOCOL, 0);
  rte_pktmbuf_free(synack);
}

TEST(nat64_icmp_errors_without_an_equivalent_are_dropped_as_translation) {
  Nat64 n;
  if (!n.syn) return;
  const struct {
    uint8_t type, code;
    uint32_t word;
  } server_side[] = {{ICMP_UNREACH, ICMP_UNREACH_HOST_PRECEDENCE, 0},   // 14
                     {ICMP_UNREACH, 16, 0},                             // unassigned
                     {ICMP_PARAMPROB, 0, 4u << 24},                     // identification: none in IPv6
                     {ICMP_PARAMPROB, ICMP_PARAMPROB_OPTABSENT, 0}},
    client_side[] = {{ICMP6_DST_UNREACH, 5, 0},                         // ingress policy
                     {ICMP6_PARAM_PROB, ICMP6_PARAMPROB_OPTION, 0},
                     {ICMP6_PARAM_PROB, ICMP6_PARAMPROB_HEADER, 2},     // flow label: none in IPv4
                     {ICMP6_PARAM_PROB, ICMP6_PARAMPROB_HEADER, 40}};   // past the header
  for (const auto& e : server_side) server_port().inject(packets::icmp_error(kRouter4, e.type, e.code, n.syn, e.word));
  n.lab.poll();
  rte_mbuf* synack = n.synack();
  if (!synack) return;
  for (const auto& e : client_side)
    client_port().inject(packets::icmp_error(kClientRouter, e.type, e.code, synack, e.word));
  rte_pktmbuf_free(synack);
  n.lab.poll();
  CHECK(client_port().sent().empty());
  CHECK(server_port().sent().empty());
  CHECK_EQ(n.lab.drops(Drop::translation), uint64_t(8));
}

// The client's 1300 bytes reach the server as 1340 IPv4 bytes, which a router quotes whole:
// the ICMPv6 error keeps what fits in 1280 bytes. The server's 1300 bytes, quoted by the
// client as much as fits in ICMPv6, become an ICMP error of 576 bytes.
TEST(nat64_icmp_translated_errors_fit_the_families_least_mtu) {
  Nat64 n;
  rte_pktmbuf_free(n.synack());
  client_port().inject(packets::tcp(from_client6(kClientPort, kNat64Port), kAck, kIsn + 1, kServerIsn + 1, 1300));
  n.lab.poll();
  rte_mbuf* data = one_frame(server_port());
  if (!data) return;
  rte_mbuf* error = packets::icmp_error(kRouter4, ICMP_UNREACH, ICMP_UNREACH_NEEDFRAG, data, 1300, true);
  rte_mbuf* m = n.through(server_port(), error, client_port());
  rte_pktmbuf_free(data);
  if (m) CHECK_EQ(rte_pktmbuf_pkt_len(m), sizeof(rte_ether_hdr) + 1280);
  check_to_client(m, ICMP6_PACKET_TOO_BIG, 0, 1320, kIsn + 1);

  server_port().inject(packets::tcp(from_server(kRs1, n.local_port), kAck, kServerIsn + 1, kIsn + 1301, 1300));
  n.lab.poll();
  data = one_frame(client_port());
  if (!data) return;
  m = n.through(client_port(), packets::icmp_error(kClientRouter, ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_NOPORT, data),
                server_port());
  rte_pktmbuf_free(data);
  if (!m) return;
  CHECK_EQ(rte_pktmbuf_pkt_len(m), sizeof(rte_ether_hdr) + 576);
  const Seen e = packets::see(m);
  rte_pktmbuf_free(m);
  CHECK(e.valid && e.ip_checksum_ok && e.l4_checksum_ok && e.quoted_ip_checksum_ok);
  CHECK_EQ(e.quoted_destination_port, n.local_port);
  CHECK_EQ(e.quoted_seq, kServerIsn + 1);
}

// Its checksum is computed afresh for the other family: a corrupted error must not pass.
TEST(nat64_icmp_error_with_a_bad_checksum_is_dropped) {
  Nat64 n;
  if (!n.syn) return;
  rte_mbuf* error = packets::icmp_error(kRouter4, ICMP_UNREACH, ICMP_UNREACH_NEEDFRAG, n.syn, 1400);
  rte_pktmbuf_mtod_offset(error, uint8_t*, sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr))[7] ^= 0x40;   // the MTU
  server_port().inject(error);
  n.lab.poll();
  CHECK(client_port().sent().empty());
  CHECK_EQ(n.lab.drops(Drop::malformed), uint64_t(1));
}

// The error reaches the worker that does not own the session: passed on, then translated.
TEST(nat64_icmp_error_reaching_another_worker_is_passed_to_the_sessions_owner) {
  Lab lab(2);
  lab.seed_neighbours();
  const auto [syn, owner, other] =
      syn_on_two_workers(lab, packets::tcp(from_client6(kClientPort, kNat64Port), kSyn, kIsn, 0));
  if (!syn) return;
  const uint64_t redirected = lab.worker(other).counters->redirected_out;   // the SYN's too, maybe
  server_port().inject(packets::icmp_error(kRouter4, ICMP_UNREACH, ICMP_UNREACH_PORT, syn), other);
  rte_pktmbuf_free(syn);
  lab.poll(other);
  lab.poll(owner);
  check_to_client(one_frame(client_port(), owner), ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_NOPORT, 0);
  CHECK_EQ(lab.worker(other).counters->redirected_out, redirected + 1);
}

// Within one family the quote keeps its layout, so a parameter problem's pointer stays.
TEST(icmp_parameter_problem_about_an_ipv4_session_keeps_its_pointer) {
  Lab lab;
  lab.seed_neighbours();
  client_port().inject(packets::tcp(from_client(55001), kSyn, kIsn, 0));
  lab.poll();
  rte_mbuf* syn = one_frame(server_port());
  if (!syn) return;
  server_port().inject(packets::icmp_error(kRouter4, ICMP_PARAMPROB, 0, syn, 9u << 24));
  rte_pktmbuf_free(syn);
  lab.poll();
  std::vector<Seen> out = sent_frames(client_port());
  CHECK_EQ(out.size(), size_t(1));
  if (out.empty()) return;
  CHECK_EQ(int(out[0].icmp_type), ICMP_PARAMPROB);
  CHECK_EQ(out[0].icmp_word, 9u << 24);
  CHECK_EQ(out[0].source, kVip);
  CHECK_EQ(out[0].quoted_source, kClient);
  CHECK(out[0].ip_checksum_ok && out[0].l4_checksum_ok && out[0].quoted_ip_checksum_ok);
}
