// Malformed frames, one class per test: each is dropped and counted by its reason alone, and
// nothing leaves. Frames that are unusual but legal (IP options, a zero window) go through
// with their checksums right. Frames whose first segment ends early are put at the end of a
// readable page, so a read past the segment faults here even without AddressSanitizer.
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "check.h"
#include "lab.h"
#include "sessions.h"

using namespace l4lb;
using namespace lab;

namespace {

constexpr uint32_t kEth = sizeof(rte_ether_hdr);

struct Guard {
  rte_mbuf_ext_shared_info shared;
  void* pages;
  size_t length;
};

void unmap(void*, void* opaque) {
  auto* guard = static_cast<Guard*>(opaque);
  munmap(guard->pages, guard->length);
}

// `frame` split after `first` bytes: the first segment ends where a PROT_NONE page begins,
// the rest is a second segment from the pool. Frees `frame`.
rte_mbuf* split_at_guard(rte_mbuf* frame, uint16_t first) {
  size_t page = size_t(sysconf(_SC_PAGESIZE));
  auto* pages = static_cast<uint8_t*>(mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  mprotect(pages + page, page, PROT_NONE);
  auto* guard = new (pages) Guard{};   // at the start of the readable page, far from the frame
  guard->pages = pages;
  guard->length = 2 * page;
  guard->shared.free_cb = unmap;
  guard->shared.fcb_opaque = guard;
  rte_mbuf_ext_refcnt_set(&guard->shared, 1);
  rte_mbuf* head = rte_pktmbuf_alloc(packets::pool());
  rte_pktmbuf_attach_extbuf(head, pages + page - first, RTE_BAD_IOVA, first, &guard->shared);
  head->data_off = 0;
  std::memcpy(rte_pktmbuf_append(head, first), rte_pktmbuf_mtod(frame, void*), first);
  uint16_t rest = uint16_t(rte_pktmbuf_pkt_len(frame) - first);
  rte_mbuf* tail = packets::frame(rest);
  std::memcpy(rte_pktmbuf_mtod(tail, void*), rte_pktmbuf_mtod_offset(frame, void*, first), rest);
  rte_pktmbuf_chain(head, tail);
  rte_pktmbuf_free(frame);
  return head;
}

// Injects `m` on the client side, lets the worker run, and tells whether nothing left.
bool nothing_sent(Lab& lab, rte_mbuf* m) {
  client_port().inject(m);
  lab.poll();
  return server_port().sent().empty() && client_port().sent().empty();
}

rte_ipv4_hdr* ip_of(rte_mbuf* m) { return rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, kEth); }
rte_tcp_hdr* tcp_of(rte_mbuf* m) { return rte_pktmbuf_mtod_offset(m, rte_tcp_hdr*, kEth + rte_ipv4_hdr_len(ip_of(m))); }
rte_udp_hdr* udp_of(rte_mbuf* m) { return rte_pktmbuf_mtod_offset(m, rte_udp_hdr*, kEth + sizeof(rte_ipv4_hdr)); }

rte_mbuf* syn(uint16_t client_port = 47000) { return packets::tcp(from_client(client_port), kSyn, 1, 0); }

// `m` (from the client side) is dropped for `why` alone, and nothing leaves.
void check_dropped(rte_mbuf* m, Drop why) {
  Lab lab;
  lab.seed_neighbours();
  CHECK(nothing_sent(lab, m));
  CHECK_EQ(lab.drops(why), uint64_t(1));
  uint64_t all = 0;
  for (int d = 0; d < static_cast<int>(Drop::count_); ++d) all += lab.drops(static_cast<Drop>(d));
  CHECK_EQ(all, uint64_t(1));
  CHECK_EQ(lab.worker().sessions->size(), 0u);
}

// `frame` with `options` (a multiple of 4 bytes) after its IPv4 header. Frees `frame`.
rte_mbuf* with_ip_options(rte_mbuf* frame, const std::vector<uint8_t>& options) {
  uint16_t before = kEth + sizeof(rte_ipv4_hdr), length = uint16_t(rte_pktmbuf_data_len(frame));
  rte_mbuf* m = packets::frame(uint16_t(length + options.size()));
  auto* out = rte_pktmbuf_mtod(m, uint8_t*);
  std::memcpy(out, rte_pktmbuf_mtod(frame, void*), before);
  std::memcpy(out + before, options.data(), options.size());
  std::memcpy(out + before + options.size(), rte_pktmbuf_mtod_offset(frame, void*, before), length - before);
  rte_pktmbuf_free(frame);
  rte_ipv4_hdr* ip = ip_of(m);
  ip->version_ihl = uint8_t(0x40 | (sizeof(rte_ipv4_hdr) + options.size()) / 4);
  ip->total_length = rte_cpu_to_be_16(uint16_t(rte_be_to_cpu_16(ip->total_length) + options.size()));
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  return m;
}

// Whether a sent frame's IPv4 header (options included) and TCP checksums hold.
bool checksums_hold(rte_mbuf* m) {
  rte_ipv4_hdr* ip = ip_of(m);
  uint32_t sum = uint32_t(rte_ipv4_phdr_cksum(ip, 0)) +
                 rte_raw_cksum(tcp_of(m), rte_be_to_cpu_16(ip->total_length) - rte_ipv4_hdr_len(ip));
  sum = (sum & 0xffff) + (sum >> 16);
  return rte_raw_cksum(ip, rte_ipv4_hdr_len(ip)) == 0xffff && ((sum & 0xffff) + (sum >> 16)) == 0xffff;
}

}  // namespace

TEST(malformed_truncated_ethernet_header) {
  rte_mbuf* m = syn();
  rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - 10);
  check_dropped(m, Drop::malformed);
}

TEST(malformed_truncated_ip_header) {
  rte_mbuf* m = syn();
  rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - (kEth + 12));
  check_dropped(m, Drop::malformed);
}

TEST(malformed_truncated_tcp_header) {
  rte_mbuf* m = syn();
  rte_pktmbuf_trim(m, 10);
  ip_of(m)->total_length = rte_cpu_to_be_16(sizeof(rte_ipv4_hdr) + 10);   // consistent, yet too short
  check_dropped(m, Drop::malformed);
}

TEST(malformed_truncated_udp_header) {
  rte_mbuf* m = packets::udp(from_client(47001, kUdpPort), 0);
  rte_pktmbuf_trim(m, 4);
  ip_of(m)->total_length = rte_cpu_to_be_16(sizeof(rte_ipv4_hdr) + 4);
  check_dropped(m, Drop::malformed);
}

TEST(malformed_truncated_arp) {
  rte_mbuf* m = packets::arp(RTE_ARP_OP_REQUEST, kClientMac, kClient, MacAddress{}, kVip, true);
  rte_pktmbuf_trim(m, 10);
  check_dropped(m, Drop::malformed);
}

TEST(malformed_arp_with_other_address_lengths) {
  rte_mbuf* m = packets::arp(RTE_ARP_OP_REQUEST, kClientMac, kClient, MacAddress{}, kVip, true);
  rte_pktmbuf_mtod_offset(m, rte_arp_hdr*, kEth)->arp_hlen = 8;
  check_dropped(m, Drop::malformed);
}

TEST(malformed_ip_header_length_below_minimum) {
  rte_mbuf* m = syn();
  ip_of(m)->version_ihl = 0x44;
  check_dropped(m, Drop::malformed);
}

TEST(malformed_ip_header_length_past_the_frame) {
  rte_mbuf* m = syn();
  ip_of(m)->version_ihl = 0x4f;   // 60 bytes of header in a 40-byte packet
  check_dropped(m, Drop::malformed);
}

TEST(malformed_ip_version_not_4) {
  rte_mbuf* m = syn();
  ip_of(m)->version_ihl = 0x65;
  check_dropped(m, Drop::malformed);
}

TEST(malformed_ip_total_length_past_the_frame) {
  rte_mbuf* m = syn();
  ip_of(m)->total_length = rte_cpu_to_be_16(uint16_t(rte_pktmbuf_pkt_len(m)));
  check_dropped(m, Drop::malformed);
}

TEST(malformed_ip_total_length_below_its_header) {
  rte_mbuf* m = syn();
  ip_of(m)->total_length = rte_cpu_to_be_16(12);
  check_dropped(m, Drop::malformed);
}

TEST(malformed_first_fragment) {
  rte_mbuf* m = syn();
  ip_of(m)->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG);
  check_dropped(m, Drop::fragment);
}

TEST(malformed_later_fragment) {
  rte_mbuf* m = packets::tcp(from_client(47002), kAck, 1, 1, 100);
  ip_of(m)->fragment_offset = rte_cpu_to_be_16(16);
  check_dropped(m, Drop::fragment);
}

TEST(malformed_tcp_data_offset_below_minimum) {
  rte_mbuf* m = syn();
  tcp_of(m)->data_off = 4 << 4;
  check_dropped(m, Drop::malformed);
}

TEST(malformed_tcp_data_offset_past_the_segment) {
  rte_mbuf* m = packets::tcp(from_client(47003), kAck, 1, 1, 20);
  tcp_of(m)->data_off = 15 << 4;   // 60 bytes of header in a 40-byte segment
  check_dropped(m, Drop::malformed);
}

TEST(malformed_tcp_flags_not_in_use) {
  for (uint8_t flags : {uint8_t(kSyn | kFin), uint8_t(kSyn | kRst), uint8_t(0), uint8_t(kFin), uint8_t(0xff),
                        uint8_t(kFin | kPsh | 0x20)}) {
    rte_mbuf* m = syn();
    tcp_of(m)->tcp_flags = flags;
    check_dropped(m, Drop::malformed);
  }
}

TEST(malformed_udp_length_past_the_datagram) {
  rte_mbuf* m = packets::udp(from_client(47004, kUdpPort), 8);
  udp_of(m)->dgram_len = rte_cpu_to_be_16(sizeof(rte_udp_hdr) + 9);
  check_dropped(m, Drop::malformed);
}

TEST(malformed_udp_length_below_its_header) {
  rte_mbuf* m = packets::udp(from_client(47005, kUdpPort), 8);
  udp_of(m)->dgram_len = rte_cpu_to_be_16(4);
  check_dropped(m, Drop::malformed);
}

TEST(malformed_vlan_tagged_frame_is_not_ip) {
  rte_mbuf* m = syn();
  rte_pktmbuf_mtod(m, rte_ether_hdr*)->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
  check_dropped(m, Drop::not_ip);
}

// Legal, if unusual: options stay, the header checksum is right for the translated addresses.
TEST(malformed_ip_options_are_forwarded) {
  Lab lab;
  lab.seed_neighbours();
  client_port().inject(with_ip_options(syn(), {1, 1, 1, 0}));   // NOP NOP NOP EOL
  lab.poll();
  std::vector<rte_mbuf*> out = server_port().sent();
  CHECK_EQ(out.size(), size_t(1));
  if (!out.empty()) {
    CHECK_EQ(rte_ipv4_hdr_len(ip_of(out[0])), 24u);
    CHECK_EQ(ip_of(out[0])->dst_addr, kRs1.v4_be());
    CHECK(checksums_hold(out[0]));
  }
  release(out);
}

// A full receive window is flow control, not an error: the segment goes on unchanged.
TEST(malformed_zero_window_is_forwarded) {
  Lab lab;
  lab.seed_neighbours();
  client_port().inject(syn(47006));
  lab.poll();
  server_port().clear();
  rte_mbuf* m = packets::tcp(from_client(47006), kAck, 2, 1);
  tcp_of(m)->rx_win = 0;
  tcp_of(m)->cksum = 0;
  tcp_of(m)->cksum = rte_ipv4_udptcp_cksum(ip_of(m), tcp_of(m));
  client_port().inject(m);
  lab.poll();
  std::vector<rte_mbuf*> out = server_port().sent();
  CHECK_EQ(out.size(), size_t(1));
  if (!out.empty()) {
    CHECK_EQ(tcp_of(out[0])->rx_win, 0);
    CHECK(checksums_hold(out[0]));
  }
  release(out);
}

TEST(malformed_tcp_header_across_segments_is_not_read_past_the_first) {
  Lab lab;
  lab.seed_neighbours();
  // The first segment ends 8 bytes into the TCP header, before its data offset.
  rte_mbuf* m = split_at_guard(packets::tcp(from_client(46000), kSyn, 1, 0, 40), kEth + sizeof(rte_ipv4_hdr) + 8);
  CHECK(nothing_sent(lab, m));
  CHECK_EQ(lab.drops(Drop::malformed), uint64_t(1));
  CHECK_EQ(lab.worker().sessions->size(), 0u);
}

// An echo reply whose checksum update comes to 0: right for a message summing to 0xffff, wrong
// for an all-zero one; and a reply whose data spans two segments, split at an odd offset.
TEST(malformed_echo_replies_whose_checksum_update_gives_zero) {
  for (bool all_zeros : {true, false}) {
    Lab lab;
    rte_mbuf* m = packets::icmp_echo(from_client(0), 0, 0);
    auto* icmp = rte_pktmbuf_mtod_offset(m, rte_icmp_hdr*, kEth + sizeof(rte_ipv4_hdr));
    uint16_t length = uint16_t(rte_pktmbuf_data_len(m) - kEth - sizeof(rte_ipv4_hdr));
    auto* data = reinterpret_cast<uint8_t*>(icmp + 1);
    std::memset(data, all_zeros ? 0 : 0xff, length - sizeof(rte_icmp_hdr));   // else the reply sums to 0xffff
    icmp->icmp_cksum = 0;
    icmp->icmp_cksum = uint16_t(~rte_raw_cksum(icmp, length));
    if (!all_zeros) m = split_at_guard(m, kEth + sizeof(rte_ipv4_hdr) + sizeof(rte_icmp_hdr) + 1);
    client_port().inject(m);
    lab.poll();
    std::vector<rte_mbuf*> out = client_port().sent();
    CHECK_EQ(out.size(), size_t(1));
    if (!out.empty()) {
      std::vector<uint8_t> copy(length);
      auto* reply = static_cast<const uint8_t*>(rte_pktmbuf_read(out[0], kEth + sizeof(rte_ipv4_hdr), length, copy.data()));
      CHECK_EQ(reply[0], RTE_IP_ICMP_ECHO_REPLY);
      CHECK_EQ(rte_raw_cksum(reply, length), 0xffff);
    }
    release(out);
  }
}
