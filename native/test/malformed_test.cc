// Malformed frames, one class per test: each is dropped and counted by its reason, and
// nothing leaves. Frames that are unusual but legal (IP options, a zero window) go through
// with their checksums right. Frames whose first segment ends early are put at the end of a
// readable page, so a read past the segment faults here even without AddressSanitizer.
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

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

}  // namespace

TEST(malformed_tcp_header_across_segments_is_not_read_past_the_first) {
  Lab lab;
  lab.seed_neighbours();
  // The first segment ends 8 bytes into the TCP header, before its data offset.
  rte_mbuf* m = split_at_guard(packets::tcp(from_client(46000), kSyn, 1, 0, 40), kEth + sizeof(rte_ipv4_hdr) + 8);
  CHECK(nothing_sent(lab, m));
  CHECK_EQ(lab.drops(Drop::malformed), uint64_t(1));
  CHECK_EQ(lab.worker().sessions->size(), 0u);
}

TEST(malformed_echo_of_zeros_gets_a_valid_reply_checksum) {
  Lab lab;
  rte_mbuf* m = packets::icmp_echo(from_client(0), 0, 0);   // then made all zeros
  auto* icmp = rte_pktmbuf_mtod_offset(m, rte_icmp_hdr*, kEth + sizeof(rte_ipv4_hdr));
  uint16_t length = uint16_t(rte_pktmbuf_data_len(m) - kEth - sizeof(rte_ipv4_hdr));
  std::memset(icmp + 1, 0, length - sizeof(rte_icmp_hdr));
  icmp->icmp_cksum = 0;
  icmp->icmp_cksum = uint16_t(~rte_raw_cksum(icmp, length));
  client_port().inject(m);
  lab.poll();
  std::vector<packets::Seen> replies = sent_frames(client_port());
  CHECK_EQ(replies.size(), size_t(1));
  CHECK(!replies.empty() && replies[0].icmp_type == RTE_IP_ICMP_ECHO_REPLY && replies[0].l4_checksum_ok);
}
