// TOA option insertion (placement, pruning when full, MTU and buffer limits, checksums) and
// MSS lowering, on crafted segments; checksums verified from scratch by packets::see().
#include <cstring>

#include "check.h"
#include "segments.h"
#include "toa.h"

using namespace l4lb;
using packets::ip;
using segments::Bytes;

namespace {

const packets::Ends kEnds{packets::mac(1), packets::mac(2), ip(10, 1, 0, 2), ip(10, 1, 0, 11), 1025, 8080};
const Address kClient = ip(192, 0, 2, 7);
constexpr uint16_t kClientPort = 40000;
const Bytes kToa{254, 8, 0x9c, 0x40, 192, 0, 2, 7};   // port 40000, 192.0.2.7

bool checksums_ok(const rte_mbuf* m) {
  packets::Seen seen = packets::see(m);
  return seen.valid && seen.ip_checksum_ok && seen.l4_checksum_ok;
}

ToaResult insert(rte_mbuf* m, uint16_t mtu = 1500) {
  IpFrame f = segments::parse(m);
  return insert_toa(m, f, kClient, kClientPort, mtu);
}

}  // namespace

TEST(toa_goes_after_the_timestamps_of_a_bare_ack) {
  rte_mbuf* m = segments::tcp(kEnds, kAck, 1001, 5001, segments::timestamps(7, 9), "");
  CHECK(insert(m) == ToaResult::added);
  segments::View v = segments::view(m);
  CHECK(v.valid);
  CHECK_EQ(v.options.size(), size_t(20));
  CHECK(segments::option(v.options, 254) == kToa);
  CHECK(segments::option(v.options, 8).size() == 10);
  CHECK_EQ(v.ip_total_length, uint16_t(20 + 20 + 12 + 8));
  CHECK(checksums_ok(m));
  packets::Seen seen = packets::see(m);
  CHECK_EQ(seen.seq, 1001u);
  CHECK_EQ(seen.ack, 5001u);
  rte_pktmbuf_free(m);
}

TEST(toa_keeps_an_odd_payload_and_its_checksum) {
  rte_mbuf* m = segments::tcp(kEnds, kAck | kPsh, 1001, 5001, {}, "hello");
  CHECK(insert(m) == ToaResult::added);
  segments::View v = segments::view(m);
  CHECK(v.options == kToa);
  CHECK(v.payload == "hello");
  CHECK(checksums_ok(m));
  rte_pktmbuf_free(m);
}

TEST(toa_is_read_before_an_end_of_option_list) {
  Bytes options = segments::concat({segments::timestamps(1, 2), {0, 0, 0, 0}});
  rte_mbuf* m = segments::tcp(kEnds, kAck, 1, 2, options, "");
  CHECK(insert(m) == ToaResult::added);
  segments::View v = segments::view(m);
  CHECK(segments::option(v.options, 254) == kToa);   // the reader stops at End of Option List
  CHECK(checksums_ok(m));
  rte_pktmbuf_free(m);
}

TEST(toa_prunes_nop_padding_first) {
  // NOP NOP TS (12) + NOP NOP SACK×2 (20) + 4 NOPs = 36 bytes: no room for 8 more with padding.
  Bytes options = segments::concat({segments::timestamps(1, 2), segments::sack({{10, 20}, {30, 40}}), {1, 1, 1, 1}});
  rte_mbuf* m = segments::tcp(kEnds, kAck, 1, 2, options, "data");
  CHECK(insert(m) == ToaResult::added_after_pruning);
  segments::View v = segments::view(m);
  CHECK(segments::option(v.options, 254) == kToa);
  CHECK_EQ(segments::option(v.options, 8).size(), size_t(10));
  CHECK_EQ(segments::option(v.options, 5).size(), size_t(18));   // both SACK blocks kept
  CHECK(v.options.size() <= 40);
  CHECK(v.payload == "data");
  CHECK(checksums_ok(m));
  rte_pktmbuf_free(m);
}

TEST(toa_prunes_sack_blocks_when_padding_is_not_enough) {
  // NOP NOP TS (12) + NOP NOP SACK×3 (28) = 40: the header is full.
  Bytes options = segments::concat({segments::timestamps(1, 2), segments::sack({{10, 20}, {30, 40}, {50, 60}})});
  rte_mbuf* m = segments::tcp(kEnds, kAck, 1, 2, options, "x");
  CHECK(insert(m) == ToaResult::added_after_pruning);
  segments::View v = segments::view(m);
  CHECK(segments::option(v.options, 254) == kToa);
  CHECK_EQ(segments::option(v.options, 8).size(), size_t(10));   // timestamps never go
  CHECK(segments::option(v.options, 5).empty());
  CHECK_EQ(v.options.size(), size_t(40));   // never shrinks
  CHECK(v.payload == "x");
  CHECK(checksums_ok(m));
  rte_pktmbuf_free(m);
}

TEST(toa_gives_up_when_kept_options_fill_the_header) {
  Bytes unknown(24, 0xaa);
  unknown[0] = 30;   // an option kind we do not know: kept
  unknown[1] = 24;
  Bytes options = segments::concat({segments::timestamps(1, 2), unknown});   // 36 bytes
  rte_mbuf* m = segments::tcp(kEnds, kAck, 1, 2, options, "abc");
  std::string before(rte_pktmbuf_mtod(m, const char*), rte_pktmbuf_data_len(m));
  CHECK(insert(m) == ToaResult::no_room);
  CHECK(std::string(rte_pktmbuf_mtod(m, const char*), rte_pktmbuf_data_len(m)) == before);
  rte_pktmbuf_free(m);
}

TEST(toa_does_not_grow_a_packet_past_the_mtu) {
  rte_mbuf* m = segments::tcp(kEnds, kAck, 1, 2, segments::timestamps(1, 2), std::string(100, 'p'));
  uint16_t length = segments::view(m).ip_total_length;
  CHECK(insert(m, uint16_t(length + 7)) == ToaResult::no_room);
  CHECK_EQ(segments::view(m).ip_total_length, length);
  CHECK(insert(m, uint16_t(length + 8)) == ToaResult::added);
  rte_pktmbuf_free(m);
}

TEST(toa_moves_the_payload_when_the_buffer_has_no_headroom) {
  rte_mbuf* m = segments::tcp(kEnds, kAck | kPsh, 1, 2, segments::timestamps(1, 2), "payload!", 0);
  CHECK(insert(m) == ToaResult::added);
  segments::View v = segments::view(m);
  CHECK(segments::option(v.options, 254) == kToa);
  CHECK(v.payload == "payload!");
  CHECK(checksums_ok(m));
  rte_pktmbuf_free(m);
}

TEST(toa_leaves_a_corrupt_segment_corrupt) {
  rte_mbuf* m = segments::tcp(kEnds, kAck | kPsh, 1, 2, {}, "payload");
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, sizeof(rte_ether_hdr));
  reinterpret_cast<uint8_t*>(ip)[20 + 20 + 3] ^= 0x40;   // damaged on the way, checksum not updated
  CHECK(!packets::see(m).l4_checksum_ok);
  CHECK(insert(m) == ToaResult::added);
  CHECK(!packets::see(m).l4_checksum_ok);   // derived, not recomputed: still detectable
  rte_pktmbuf_free(m);
}

TEST(toa_lowers_the_mss_of_a_syn_ack_by_eight) {
  // NOP, then MSS at an odd offset: the patch straddles checksum words.
  Bytes options = segments::concat({{1}, segments::mss(1460), {1, 1, 1}});
  rte_mbuf* m = segments::tcp(kEnds, kSyn | kAck, 5000, 1001, options, "");
  IpFrame f = segments::parse(m);
  CHECK(lower_mss(f.tcp(), kToaLength));
  segments::View v = segments::view(m);
  CHECK(segments::option(v.options, 2) == segments::mss(1452));
  CHECK(checksums_ok(m));
  rte_pktmbuf_free(m);

  rte_mbuf* none = segments::tcp(kEnds, kSyn | kAck, 5000, 1001, segments::timestamps(1, 2), "");
  IpFrame g = segments::parse(none);
  CHECK(!lower_mss(g.tcp(), kToaLength));
  CHECK(checksums_ok(none));
  rte_pktmbuf_free(none);
}
