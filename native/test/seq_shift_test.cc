// The PROXY header's sequence shift: server-side seq of inbound segments, client-side ack and
// SACK edges of outbound ones, across wrap-around; checksums verified from scratch.
#include "check.h"
#include "segments.h"
#include "seq_shift.h"

using namespace l4lb;
using packets::ip;

namespace {

const packets::Ends kEnds{packets::mac(1), packets::mac(2), ip(10, 1, 0, 11), ip(10, 1, 0, 2), 8080, 1025};

bool checksums_ok(const rte_mbuf* m) {
  packets::Seen seen = packets::see(m);
  return seen.valid && seen.ip_checksum_ok && seen.l4_checksum_ok;
}

uint32_t be32_at(const segments::Bytes& b, size_t at) {
  return uint32_t(b[at]) << 24 | uint32_t(b[at + 1]) << 16 | uint32_t(b[at + 2]) << 8 | b[at + 3];
}

}  // namespace

TEST(seq_shift_inbound_moves_everything_after_the_first_byte) {
  for (uint32_t first : {1001u, 0xfffffff0u}) {   // and across wrap-around
    HeaderPlace p{first, 42};
    CHECK_EQ(server_seq(first - 1, p, true), first - 1);           // the SYN
    CHECK_EQ(server_seq(first, p, false), first);                  // bare ACK before the header
    CHECK_EQ(server_seq(first, p, true), first + 42);              // bare ACK after it
    CHECK_EQ(server_seq(first + 100, p, false), first + 142);      // overtook the first segment
    CHECK_EQ(server_seq(first + 100, p, true), first + 142);
  }
}

TEST(seq_shift_outbound_acks_lose_the_header_length) {
  for (uint32_t first : {1001u, 0xfffffff0u}) {
    HeaderPlace p{first, 42};
    CHECK_EQ(client_seq(first, p), first);             // nothing of the header acknowledged yet
    CHECK_EQ(client_seq(first + 10, p), first);        // part of the header
    CHECK_EQ(client_seq(first + 42, p), first);        // the header, no payload yet
    CHECK_EQ(client_seq(first + 542, p), first + 500);
    CHECK_EQ(client_seq(first - 5, p), first - 5);
  }
}

TEST(seq_shift_sets_a_segment_seq_with_a_valid_checksum) {
  rte_mbuf* m = segments::tcp(kEnds, kAck | kPsh, 1101, 5001, segments::timestamps(1, 2), "abc");
  IpFrame f = segments::parse(m);
  set_tcp_seq(f.tcp(), 1143);
  CHECK_EQ(packets::see(m).seq, 1143u);
  CHECK(checksums_ok(m));
  rte_pktmbuf_free(m);
}

TEST(seq_shift_outbound_ack_and_sack_edges_move_back) {
  HeaderPlace p{1001, 42};
  // The server acknowledges the header and 100 bytes, and SACKs two later ranges.
  segments::Bytes options = segments::concat({segments::timestamps(5, 6), segments::sack({{1243, 1343}, {1443, 1543}})});
  rte_mbuf* m = segments::tcp(kEnds, kAck, 5001, 1143, options, "reply");
  IpFrame f = segments::parse(m);
  unshift_outbound(f.tcp(), p);
  packets::Seen seen = packets::see(m);
  CHECK_EQ(seen.ack, 1101u);
  CHECK_EQ(seen.seq, 5001u);
  CHECK(checksums_ok(m));
  segments::Bytes block = segments::option(segments::view(m).options, 5);
  CHECK_EQ(block.size(), size_t(18));
  CHECK_EQ(be32_at(block, 2), 1201u);
  CHECK_EQ(be32_at(block, 6), 1301u);
  CHECK_EQ(be32_at(block, 10), 1401u);
  CHECK_EQ(be32_at(block, 14), 1501u);
  segments::Bytes sent_timestamps = segments::timestamps(5, 6);
  sent_timestamps.erase(sent_timestamps.begin(), sent_timestamps.begin() + 2);   // the NOPs
  CHECK(segments::option(segments::view(m).options, 8) == sent_timestamps);
  rte_pktmbuf_free(m);
}

TEST(seq_shift_outbound_sack_at_an_odd_offset_keeps_the_checksum) {
  HeaderPlace p{1001, 41};
  segments::Bytes options = segments::concat({{1}, {5, 10, 0, 0, 0x04, 0xd2, 0, 0, 0x05, 0x36}});   // 1234..1334
  rte_mbuf* m = segments::tcp(kEnds, kAck, 5001, 1042, options, "");
  IpFrame f = segments::parse(m);
  unshift_outbound(f.tcp(), p);
  CHECK(checksums_ok(m));
  CHECK_EQ(packets::see(m).ack, 1001u);
  segments::Bytes block = segments::option(segments::view(m).options, 5);
  CHECK_EQ(be32_at(block, 2), 1193u);
  CHECK_EQ(be32_at(block, 6), 1293u);
  rte_pktmbuf_free(m);
}
