// TCP resets for sessions the load balancer ends itself (real server disabled or removed,
// service removed, sessions flushed): each end gets a RST that looks like it came from the
// other, with the sequence number that end expects next, so it is accepted at once.
#include "client_address.h"
#include "flow.h"
#include "ip_header.h"

namespace l4lb {

namespace {

constexpr uint8_t kResetTtl = 64;

void send_reset(Worker& w, const Address& source, uint16_t source_port, const Address& destination,
                uint16_t destination_port, uint32_t seq, uint32_t ack, const Egress& egress) {
  rte_mbuf* m = w.pool ? rte_pktmbuf_alloc(w.pool) : nullptr;
  if (!m) return;   // the session ends anyway; the endpoint times out instead
  const uint16_t ip_length = source.is_v4() ? sizeof(rte_ipv4_hdr) : sizeof(rte_ipv6_hdr);
  if (!rte_pktmbuf_append(m, uint16_t(kEtherLength + ip_length + sizeof(rte_tcp_hdr)))) {
    rte_pktmbuf_free(m);
    return;
  }
  IpFrame f = write_ip_header(header_at<uint8_t>(m, kEtherLength), source, destination, IPPROTO_TCP, kResetTtl, 0,
                              sizeof(rte_tcp_hdr));
  rte_tcp_hdr* tcp = f.tcp();
  *tcp = rte_tcp_hdr{};
  tcp->src_port = rte_cpu_to_be_16(source_port);
  tcp->dst_port = rte_cpu_to_be_16(destination_port);
  tcp->sent_seq = rte_cpu_to_be_32(seq);
  tcp->recv_ack = rte_cpu_to_be_32(ack);
  tcp->data_off = (sizeof(rte_tcp_hdr) / 4) << 4;
  tcp->tcp_flags = kRst | kAck;
  tcp->cksum = full_l4_checksum(f);
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
