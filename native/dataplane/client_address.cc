// The per-session side of client address passing: which segment gets TOA or the PROXY
// header, and the sequence shift after it. The model is in client_address.h.
#include "client_address.h"

#include "flow.h"
#include "proxy_protocol.h"
#include "toa.h"

namespace l4lb {

namespace {

ClientAddress proxy_version(const Session& s) {
  return (s.flags & kSessionProxyV1) ? ClientAddress::proxy_v1 : ClientAddress::proxy_v2;
}

uint16_t server_mtu(const Worker& w, const Session& s) {
  const PortInfo* port = w.snapshot->port(s.server_port_id);
  return port ? port->mtu : 1500;
}

void pass_toa(Worker& w, rte_mbuf* m, IpFrame& f, Session& s) {
  uint8_t flags = f.tcp()->tcp_flags;
  if ((s.flags & kSessionAddressPassed) || !(flags & kAck) || (flags & (kSyn | kRst))) return;
  ClientAddressCounters& c = w.counters->client_address;
  if (insert_toa(m, f, s.inbound.source, s.inbound.source_port, server_mtu(w, s)) == ToaResult::no_room) ++c.toa_failed;
  else ++c.toa_added;
}

// The first payload segment (or its retransmission): the header in front of its payload, or
// in a segment of its own sent just before it when it cannot grow.
void put_proxy_header(Worker& w, rte_mbuf* m, IpFrame& f, Session& s, uint32_t seq) {
  uint8_t header[kProxyHeaderMax];
  uint16_t length = proxy_header(proxy_version(s), s.inbound, header);
  ClientAddressCounters& c = w.counters->client_address;
  if (prepend_to_payload(m, f, header, length, server_mtu(w, s))) {
    ++c.proxy_headers;
    s.flags |= kSessionAddressPassed;
    return;
  }
  rte_mbuf* own = header_segment(w.pool, m, f, header, length);
  set_tcp_seq(f.tcp(), seq + length);   // without the header, a later retransmission brings it
  if (!own) {
    ++c.proxy_failed;
    return;
  }
  ++c.proxy_own_segments;
  s.flags |= kSessionAddressPassed;
  w.send_ip(own, server_egress(w, s));
}

void pass_proxy_tcp(Worker& w, rte_mbuf* m, IpFrame& f, Session& s) {
  rte_tcp_hdr* tcp = f.tcp();
  uint32_t seq = rte_be_to_cpu_32(tcp->sent_seq);
  if ((tcp->tcp_flags & (kSyn | kAck)) == kSyn) {   // the client's SYN, again, or a new one
    uint8_t header[kProxyHeaderMax];
    s.seq_delta = int32_t(proxy_header(proxy_version(s), s.inbound, header));
    s.client_first_seq = seq + 1;
    s.flags &= uint8_t(~kSessionAddressPassed);
    return;
  }
  if (s.seq_delta == 0) return;   // no SYN seen: nothing to shift against
  uint32_t payload = f.l4_length - (tcp->data_off >> 4) * 4u;
  if (seq == s.client_first_seq && payload > 0) return put_proxy_header(w, m, f, s, seq);
  uint32_t shifted = server_side_seq(s, seq);
  if (shifted != seq) set_tcp_seq(tcp, shifted);
}

bool pass_proxy_udp(Worker& w, rte_mbuf* m, IpFrame& f, Session& s) {
  if (s.flags & kSessionAddressPassed) return true;
  uint8_t header[kProxyHeaderMax];
  uint16_t length = proxy_header(ClientAddress::proxy_v2, s.inbound, header);
  ClientAddressCounters& c = w.counters->client_address;
  if (!prepend_to_payload(m, f, header, length, server_mtu(w, s))) {
    ++c.proxy_failed;   // a datagram without its header would be misread: drop, try the next
    w.drop(m, s.client_port_id, Drop::client_address);
    return false;
  }
  ++c.proxy_headers;
  s.flags |= kSessionAddressPassed;
  return true;
}

}  // namespace

uint8_t client_address_flags(ClientAddress mode, uint8_t protocol) {
  if (protocol == IPPROTO_UDP) return mode == ClientAddress::proxy_v2 ? kSessionProxyV2 : 0;
  switch (mode) {
    case ClientAddress::toa: return kSessionToa;
    case ClientAddress::proxy_v1: return kSessionProxyV1;
    case ClientAddress::proxy_v2: return kSessionProxyV2;
    default: return 0;
  }
}

bool pass_client_address(Worker& w, rte_mbuf* m, IpFrame& f, Session& s) {
  if (f.protocol == IPPROTO_UDP) return pass_proxy_udp(w, m, f, s);
  if (s.flags & kSessionToa) pass_toa(w, m, f, s);
  else pass_proxy_tcp(w, m, f, s);
  return true;
}

void unshift_for_client(IpFrame& f, Session& s) {
  if (f.protocol != IPPROTO_TCP) return;
  rte_tcp_hdr* tcp = f.tcp();
  if (s.flags & kSessionToa) {
    if (tcp->tcp_flags & kSyn) lower_mss(tcp, toa_length(s.inbound.source));
    else s.flags |= kSessionAddressPassed;
    return;
  }
  if (s.seq_delta != 0) unshift_outbound(tcp, HeaderPlace{s.client_first_seq, uint32_t(s.seq_delta)});
}

}  // namespace l4lb
