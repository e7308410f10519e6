// TCP resets for sessions the load balancer ends itself (real server disabled or removed,
// service removed, sessions flushed): each end gets a RST that looks like it came from the
// other, with the sequence number that end expects next, so it is accepted at once.
#include "client_address.h"
#include "flow.h"

namespace l4lb {

namespace {

constexpr uint8_t kResetTtl = 64;

// The IP header of a reset of the addresses' family at `m`'s network header; returns the TCP
// header behind it.
rte_tcp_hdr* write_ip(rte_mbuf* m, const Address& source, const Address& destination) {
  if (!source.is_v4()) {
    auto* ip = header_at<rte_ipv6_hdr>(m, kEtherLength);
    *ip = rte_ipv6_hdr{};
    ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
    ip->payload_len = rte_cpu_to_be_16(sizeof(rte_tcp_hdr));
    ip->proto = IPPROTO_TCP;
    ip->hop_limits = kResetTtl;
    source.copy_to(reinterpret_cast<uint8_t*>(&ip->src_addr));
    destination.copy_to(reinterpret_cast<uint8_t*>(&ip->dst_addr));
    return header_at<rte_tcp_hdr>(m, kEtherLength + sizeof(rte_ipv6_hdr));
  }
  auto* ip = header_at<rte_ipv4_hdr>(m, kEtherLength);
  *ip = rte_ipv4_hdr{};
  ip->version_ihl = RTE_IPV4_VHL_DEF;
  ip->total_length = rte_cpu_to_be_16(sizeof(rte_ipv4_hdr) + sizeof(rte_tcp_hdr));
  ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
  ip->time_to_live = kResetTtl;
  ip->next_proto_id = IPPROTO_TCP;
  ip->src_addr = source.v4_be();
  ip->dst_addr = destination.v4_be();
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  return header_at<rte_tcp_hdr>(m, kEtherLength + sizeof(rte_ipv4_hdr));
}

void send_reset(Worker& w, const Address& source, uint16_t source_port, const Address& destination,
                uint16_t destination_port, uint32_t seq, uint32_t ack, const Egress& egress) {
  rte_mbuf* m = w.pool ? rte_pktmbuf_alloc(w.pool) : nullptr;
  if (!m) return;   // the session ends anyway; the endpoint times out instead
  const bool v4 = source.is_v4();
  const uint16_t length = uint16_t(kEtherLength + (v4 ? sizeof(rte_ipv4_hdr) : sizeof(rte_ipv6_hdr)) + sizeof(rte_tcp_hdr));
  if (!rte_pktmbuf_append(m, length)) {
    rte_pktmbuf_free(m);
    return;
  }
  rte_tcp_hdr* tcp = write_ip(m, source, destination);
  *tcp = rte_tcp_hdr{};
  tcp->src_port = rte_cpu_to_be_16(source_port);
  tcp->dst_port = rte_cpu_to_be_16(destination_port);
  tcp->sent_seq = rte_cpu_to_be_32(seq);
  tcp->recv_ack = rte_cpu_to_be_32(ack);
  tcp->data_off = (sizeof(rte_tcp_hdr) / 4) << 4;
  tcp->tcp_flags = kRst | kAck;
  tcp->cksum = v4 ? rte_ipv4_udptcp_cksum(header_at<rte_ipv4_hdr>(m, kEtherLength), tcp)
                  : rte_ipv6_udptcp_cksum(header_at<rte_ipv6_hdr>(m, kEtherLength), tcp);
  m->port = egress.port;
  w.send_ip(m, egress);
}

}  // namespace

void send_resets(Worker& w, const Session& s) {
  if (s.inbound.protocol != IPPROTO_TCP) return;
  // To the client, from VIP:vport, in the server's sequence space.
  send_reset(w, s.inbound.destination, s.inbound.destination_port, s.inbound.source, s.inbound.source_port,
             s.server_next_seq, s.client_next_seq, client_egress(w, s));
  // To the server, from LIP:lport, in the client's sequence space as the server sees it.
  send_reset(w, s.outbound.destination, s.outbound.destination_port, s.outbound.source, s.outbound.source_port,
             server_side_seq(s, s.client_next_seq), s.server_next_seq,
             server_egress(w, s));
}

}  // namespace l4lb
