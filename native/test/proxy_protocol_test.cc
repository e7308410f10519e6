// PROXY protocol v1/v2 headers and how a segment carries one: prepended to a TCP or UDP
// payload, refused past the MTU, or sent as a segment of its own.
#include <cstring>

#include "check.h"
#include "proxy_protocol.h"
#include "segments.h"

using namespace l4lb;
using packets::ip;

namespace {

const packets::Ends kEnds{packets::mac(1), packets::mac(2), ip(10, 1, 0, 2), ip(10, 1, 0, 11), 1025, 8080};
const FlowKey kTcpFlow{ip(192, 0, 2, 7), ip(10, 0, 0, 100), 40000, 80, IPPROTO_TCP};

std::string header(ClientAddress version, const FlowKey& flow = kTcpFlow) {
  uint8_t out[kProxyHeaderMax];
  uint16_t n = proxy_header(version, flow, out);
  return std::string(reinterpret_cast<const char*>(out), n);
}

bool checksums_ok(const rte_mbuf* m) {
  packets::Seen seen = packets::see(m);
  return seen.valid && seen.ip_checksum_ok && seen.l4_checksum_ok;
}

const std::string kV2Signature("\r\n\r\n\0\r\nQUIT\n", 12);

}  // namespace

TEST(proxy_v1_header_names_client_then_vip) {
  CHECK(header(ClientAddress::proxy_v1) == "PROXY TCP4 192.0.2.7 10.0.0.100 40000 80\r\n");
  FlowKey longest{ip(255, 255, 255, 255), ip(255, 255, 255, 255), 65535, 65535, IPPROTO_TCP};
  CHECK_EQ(header(ClientAddress::proxy_v1, longest).size(), size_t(56));
  FlowKey shortest{Address::v4(0), Address::v4(0), 0, 0, IPPROTO_TCP};
  CHECK(header(ClientAddress::proxy_v1, shortest) == "PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n");
  CHECK(header(ClientAddress::none).empty());
  CHECK(header(ClientAddress::toa).empty());
}

TEST(proxy_v1_header_for_an_ipv6_client_is_tcp6) {
  Address client, vip;
  CHECK(parse_address("2001:db8::7", &client) && parse_address("2001:db8:1::100", &vip));
  CHECK(header(ClientAddress::proxy_v1, FlowKey{client, vip, 40000, 80, IPPROTO_TCP}) ==
        "PROXY TCP6 2001:db8::7 2001:db8:1::100 40000 80\r\n");
  Address widest;
  CHECK(parse_address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", &widest));
  CHECK_EQ(header(ClientAddress::proxy_v1, FlowKey{widest, widest, 65535, 65535, IPPROTO_TCP}).size(),
           size_t(kProxyHeaderMax));
}

TEST(proxy_v2_header_for_an_ipv6_client_is_af_inet6) {
  Address client, vip;
  CHECK(parse_address("2001:db8::7", &client) && parse_address("2001:db8:1::100", &vip));
  for (uint8_t protocol : {uint8_t(IPPROTO_TCP), uint8_t(IPPROTO_UDP)}) {
    std::string h = header(ClientAddress::proxy_v2, FlowKey{client, vip, 40000, 80, protocol});
    CHECK_EQ(h.size(), size_t(52));
    CHECK(h.substr(0, 12) == kV2Signature);
    CHECK_EQ(int(uint8_t(h[12])), 0x21);
    CHECK_EQ(int(uint8_t(h[13])), protocol == IPPROTO_TCP ? 0x21 : 0x22);
    CHECK_EQ(int(uint8_t(h[14])) << 8 | uint8_t(h[15]), 36);
    uint8_t bytes[16];
    client.copy_to(bytes);
    CHECK(h.substr(16, 16) == std::string(reinterpret_cast<char*>(bytes), 16));
    vip.copy_to(bytes);
    CHECK(h.substr(32, 16) == std::string(reinterpret_cast<char*>(bytes), 16));
    CHECK_EQ(int(uint8_t(h[48])) << 8 | uint8_t(h[49]), 40000);
    CHECK_EQ(int(uint8_t(h[50])) << 8 | uint8_t(h[51]), 80);
  }
}

TEST(proxy_v2_header_is_binary_inet_stream_or_datagram) {
  std::string h = header(ClientAddress::proxy_v2);
  CHECK_EQ(h.size(), size_t(28));
  CHECK(h.substr(0, 12) == kV2Signature);
  CHECK(h.substr(12) == std::string("\x21\x11\x00\x0c\xc0\x00\x02\x07\x0a\x00\x00\x64\x9c\x40\x00\x50", 16));
  FlowKey udp = kTcpFlow;
  udp.protocol = IPPROTO_UDP;
  CHECK_EQ(int(uint8_t(header(ClientAddress::proxy_v2, udp)[13])), 0x12);
}

TEST(proxy_header_is_prepended_to_a_tcp_payload) {
  for (const char* payload : {"GET / HTTP/1.1\r\n\r\n", "odd"}) {
    for (ClientAddress version : {ClientAddress::proxy_v1, ClientAddress::proxy_v2}) {
      std::string h = header(version);
      rte_mbuf* m = segments::tcp(kEnds, kAck | kPsh, 1001, 5001, segments::timestamps(3, 4), payload);
      IpFrame f = segments::parse(m);
      CHECK(prepend_to_payload(m, f, reinterpret_cast<const uint8_t*>(h.data()), uint16_t(h.size()), 1500));
      segments::View v = segments::view(m);
      CHECK(v.payload == h + payload);
      CHECK(v.options == segments::timestamps(3, 4));
      CHECK_EQ(size_t(v.ip_total_length), 20 + 32 + h.size() + std::strlen(payload));
      CHECK(checksums_ok(m));
      CHECK_EQ(packets::see(m).seq, 1001u);
      rte_pktmbuf_free(m);
    }
  }
}

TEST(proxy_header_is_refused_past_the_mtu) {
  std::string h = header(ClientAddress::proxy_v1);
  rte_mbuf* m = segments::tcp(kEnds, kAck, 1001, 5001, {}, std::string(1400, 'd'));
  IpFrame f = segments::parse(m);
  uint16_t mtu = uint16_t(20 + 20 + 1400 + h.size() - 1);
  CHECK(!prepend_to_payload(m, f, reinterpret_cast<const uint8_t*>(h.data()), uint16_t(h.size()), mtu));
  segments::View v = segments::view(m);
  CHECK(v.payload == std::string(1400, 'd'));
  CHECK(checksums_ok(m));
  rte_pktmbuf_free(m);
}

TEST(proxy_v2_is_prepended_to_a_udp_datagram) {
  FlowKey flow = kTcpFlow;
  flow.protocol = IPPROTO_UDP;
  std::string h = header(ClientAddress::proxy_v2, flow);
  rte_mbuf* m = segments::udp(kEnds, "query");
  IpFrame f = segments::parse(m);
  CHECK(prepend_to_payload(m, f, reinterpret_cast<const uint8_t*>(h.data()), uint16_t(h.size()), 1500));
  segments::View v = segments::view(m);
  CHECK(v.payload == h + "query");
  CHECK_EQ(size_t(v.udp_length), 8 + h.size() + 5);
  CHECK(checksums_ok(m));
  rte_pktmbuf_free(m);

  rte_mbuf* unchecked = segments::udp(kEnds, "q");   // a datagram sent without a checksum keeps none
  IpFrame g = segments::parse(unchecked);
  g.udp()->dgram_cksum = 0;
  CHECK(prepend_to_payload(unchecked, g, reinterpret_cast<const uint8_t*>(h.data()), uint16_t(h.size()), 1500));
  CHECK_EQ(segments::parse(unchecked).udp()->dgram_cksum, 0);
  CHECK(segments::view(unchecked).payload == h + "q");
  rte_pktmbuf_free(unchecked);
}

TEST(proxy_header_segment_copies_the_headers_and_carries_only_the_header) {
  std::string h = header(ClientAddress::proxy_v1);
  rte_mbuf* m = segments::tcp(kEnds, kAck | kPsh | kFin, 1001, 5001, segments::timestamps(3, 4), "data");
  IpFrame f = segments::parse(m);
  rte_mbuf* own = header_segment(packets::pool(), m, f, reinterpret_cast<const uint8_t*>(h.data()), uint16_t(h.size()));
  CHECK(own != nullptr);
  packets::Seen seen = packets::see(own);
  CHECK(seen.ip_checksum_ok);
  CHECK(seen.l4_checksum_ok);
  CHECK_EQ(seen.seq, 1001u);
  CHECK_EQ(seen.ack, 5001u);
  CHECK_EQ(int(seen.flags), int(kAck | kPsh));   // no FIN: the original still carries it
  CHECK_EQ(seen.source, kEnds.source);
  CHECK_EQ(seen.destination_port, kEnds.destination_port);
  segments::View v = segments::view(own);
  CHECK(v.payload == h);
  CHECK(v.options == segments::timestamps(3, 4));
  rte_pktmbuf_free(own);
  rte_pktmbuf_free(m);
}
