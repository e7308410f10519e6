// Sequence rewriting for PROXY protocol sessions; the model is in seq_shift.h.
#include "seq_shift.h"

#include <cstring>

#include "checksum.h"
#include "tcp_options.h"

namespace l4lb {

void set_tcp_seq(rte_tcp_hdr* tcp, uint32_t seq) {
  rte_be32_t value = rte_cpu_to_be_32(seq);
  ChecksumDelta delta;
  delta.replace32(tcp->sent_seq, value);
  tcp->sent_seq = value;
  tcp->cksum = update_checksum(tcp->cksum, delta);
}

void unshift_outbound(rte_tcp_hdr* tcp, const HeaderPlace& p) {
  if (tcp->tcp_flags & RTE_TCP_ACK_FLAG) {
    rte_be32_t value = rte_cpu_to_be_32(client_seq(rte_be_to_cpu_32(tcp->recv_ack), p));
    ChecksumDelta delta;
    delta.replace32(tcp->recv_ack, value);
    tcp->recv_ack = value;
    tcp->cksum = update_checksum(tcp->cksum, delta);
  }
  uint16_t header_length = uint16_t((tcp->data_off >> 4) * 4u);
  if (header_length <= kTcpFixedHeader) return;
  auto* header = reinterpret_cast<uint8_t*>(tcp);
  for_each_tcp_option(header, header_length, [&](uint8_t kind, uint16_t offset, uint16_t length) {
    if (kind != kTcpOptionSack) return;
    for (uint16_t edge = offset + 2; edge + 4 <= offset + length; edge += 4) {
      rte_be32_t value;
      std::memcpy(&value, header + edge, 4);
      value = rte_cpu_to_be_32(client_seq(rte_be_to_cpu_32(value), p));
      tcp->cksum = patch_checksummed(header, edge, &value, 4, tcp->cksum);
    }
  });
}

}  // namespace l4lb
