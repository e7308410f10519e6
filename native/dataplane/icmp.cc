// ICMP for a worker: echo replies from the VIPs and local addresses, and translation of ICMP
// errors (destination unreachable, time exceeded) that quote a packet of a session, so path
// MTU discovery and "port unreachable" work across the NAT in both directions.
#include <algorithm>
#include <cstddef>
#include <cstring>

#include "client_address.h"
#include "flow.h"
#include "nat.h"

namespace l4lb {

namespace {

constexpr uint8_t kEchoTtl = 64;

// Stores `value` in the header byte `field`, which lies in the 16-bit word at `word`, and
// records the word's change in `delta` for an incremental checksum update.
void store_byte(ChecksumDelta& delta, const void* word, uint8_t& field, uint8_t value) {
  uint16_t before, after;
  std::memcpy(&before, word, 2);
  field = value;
  std::memcpy(&after, word, 2);
  delta.replace16(before, after);
}

// Turns an echo request into its reply in place: type, addresses swapped, fresh TTL; both
// checksums updated from the change. Cost: a dozen stores; no pass over the payload.
void answer_echo(Worker& w, rte_mbuf* m, const Ipv4Frame& f, uint16_t in_port) {
  rte_icmp_hdr* icmp = f.icmp();
  ChecksumDelta message;
  store_byte(message, &icmp->icmp_type, icmp->icmp_type, RTE_IP_ICMP_ECHO_REPLY);
  icmp->icmp_cksum = update_checksum(icmp->icmp_cksum, message);
  // The update gives 0 where the message sums to 0xffff, and also where it is all zeros (type 0,
  // id, sequence and data 0), whose only valid checksum is 0xffff; 0xffff holds for both.
  if (icmp->icmp_cksum == 0) icmp->icmp_cksum = 0xffff;

  rte_ipv4_hdr* ip = f.ip;
  rte_be32_t source = ip->src_addr;   // a swap leaves the header sum as it was
  ip->src_addr = ip->dst_addr;
  ip->dst_addr = source;
  ChecksumDelta header;
  store_byte(header, &ip->time_to_live, ip->time_to_live, kEchoTtl);
  ip->hdr_checksum = update_checksum(ip->hdr_checksum, header);

  // Back where it came from, no ARP needed. Bytes, not rte_ether_hdr (2-byte aligned): a
  // frame may start at an odd address.
  auto* eth = header_at<uint8_t>(m, 0);
  uint8_t asker[6];
  std::memcpy(asker, eth + 6, 6);
  std::memcpy(eth + 6, eth, 6);
  std::memcpy(eth, asker, 6);
  ++w.counters->ports[in_port].icmp_echo;
  w.send_raw(m, in_port);
}

// An ICMP error quoting a packet we sent: the quoted IP header and the first 8 bytes of its
// TCP/UDP header, perhaps more (then the quoted TCP/UDP checksum is fixed too).
// Returns false when it belongs to no session of ours.
bool translate_error(Worker& w, rte_mbuf* m, const Ipv4Frame& f, uint16_t in_port) {
  constexpr uint32_t kQuotedPorts = 8;
  uint32_t icmp_offset = uint32_t(f.l4 - rte_pktmbuf_mtod(m, uint8_t*));
  uint32_t available = std::min<uint32_t>(f.l4_length, rte_pktmbuf_data_len(m) - icmp_offset);
  if (available < sizeof(rte_icmp_hdr) + sizeof(rte_ipv4_hdr) + kQuotedPorts) return false;
  auto* quoted = reinterpret_cast<rte_ipv4_hdr*>(f.l4 + sizeof(rte_icmp_hdr));
  uint32_t quoted_header = (quoted->version_ihl & 0x0f) * 4u;
  if (quoted_header < sizeof(rte_ipv4_hdr) || available < sizeof(rte_icmp_hdr) + quoted_header + kQuotedPorts) return false;
  uint8_t protocol = quoted->next_proto_id;
  if (protocol != IPPROTO_TCP && protocol != IPPROTO_UDP) return false;
  uint8_t* quoted_l4 = reinterpret_cast<uint8_t*>(quoted) + quoted_header;
  uint32_t quoted_l4_length = available - sizeof(rte_icmp_hdr) - quoted_header;
  auto* ports = reinterpret_cast<rte_be16_t*>(quoted_l4);

  // The quoted packet went from us to the peer; the peer's packets of that flow are its mirror.
  FlowKey key{rte_be_to_cpu_32(quoted->dst_addr), rte_be_to_cpu_32(quoted->src_addr), rte_be_to_cpu_16(ports[1]),
              rte_be_to_cpu_16(ports[0]), protocol};
  uint16_t owner;
  if (w.snapshot->find_service(key.destination, key.destination_port, protocol))
    owner = owner_of_client(key.source, key.source_port, w.workers);
  else if (w.snapshot->find_pool(key.destination))
    owner = owner_of_local_port(key.destination_port, w.workers);
  else
    return false;
  if (owner != w.id) {
    w.redirect(m, owner);
    return true;
  }
  Direction direction;
  uint32_t index = w.sessions->find(key, &direction);
  if (index == kNoSession) return false;
  if (f.ip->time_to_live <= 1) {
    w.drop(m, in_port, Drop::ttl);
    return true;
  }
  const Session& s = w.sessions->at(index);
  // From the client's side the quote becomes the server's packet, and the other way round.
  const FlowKey& as_sent = direction == Direction::inbound ? s.outbound : s.inbound;
  Ipv4 outer_source = as_sent.destination, outer_destination = as_sent.source;
  Egress egress = direction == Direction::inbound ? Egress{s.server_port_id, s.server_next_hop}
                                                  : Egress{s.client_port_id, s.client_next_hop};

  // The quote: addresses, ports, its IP checksum, its TCP/UDP checksum when quoted; the ICMP
  // checksum covers all of those words.
  ChecksumDelta message;
  ChecksumDelta addresses = rewrite_addresses(quoted, as_sent.source, as_sent.destination);
  uint16_t old_check = quoted->hdr_checksum;
  quoted->hdr_checksum = update_checksum(old_check, addresses);
  message.add(addresses);
  message.replace16(old_check, quoted->hdr_checksum);
  ChecksumDelta ports_change;
  rewrite_ports(ports, as_sent.source_port, as_sent.destination_port, ports_change);
  message.add(ports_change);
  ChecksumDelta l4 = addresses;
  l4.add(ports_change);
  if (protocol == IPPROTO_TCP && direction == Direction::outbound && quoted_l4_length >= 8) {
    // The quote of a segment sent to the server, in the server's sequence space (a PROXY
    // header shifted it): the client checks the quoted seq against what it has sent.
    rte_be32_t seq;
    std::memcpy(&seq, quoted_l4 + 4, 4);
    rte_be32_t client_side = rte_cpu_to_be_32(client_side_seq(s, rte_be_to_cpu_32(seq)));
    ChecksumDelta seq_change;
    seq_change.replace32(seq, client_side);
    std::memcpy(quoted_l4 + 4, &client_side, 4);
    message.add(seq_change);
    l4.add(seq_change);
  }
  if (protocol == IPPROTO_TCP && quoted_l4_length >= offsetof(rte_tcp_hdr, cksum) + 2) {
    auto* tcp = reinterpret_cast<rte_tcp_hdr*>(quoted_l4);
    old_check = tcp->cksum;
    tcp->cksum = update_checksum(old_check, l4);
    message.replace16(old_check, tcp->cksum);
  } else if (protocol == IPPROTO_UDP) {
    auto* udp = reinterpret_cast<rte_udp_hdr*>(quoted_l4);
    old_check = udp->dgram_cksum;
    udp->dgram_cksum = update_udp_checksum(old_check, l4);
    message.replace16(old_check, udp->dgram_cksum);
  }
  f.icmp()->icmp_cksum = update_checksum(f.icmp()->icmp_cksum, message);
  translate_ip(f.ip, outer_source, outer_destination);   // ICMP has no pseudo-header
  w.send_ip(m, egress);
  return true;
}

}  // namespace

void handle_icmp(Worker& w, rte_mbuf* m, const Ipv4Frame& f, uint16_t in_port) {
  const PortInfo* port = w.snapshot->port(in_port);
  uint8_t type = f.icmp()->icmp_type;
  if (type == RTE_IP_ICMP_ECHO_REQUEST && port && owns(*port, rte_be_to_cpu_32(f.ip->dst_addr)))
    return answer_echo(w, m, f, in_port);
  if ((type == 3 || type == 11) && translate_error(w, m, f, in_port)) return;
  w.drop(m, in_port, Drop::no_service);
}

}  // namespace l4lb
