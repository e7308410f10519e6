// ICMP for a worker, and what ICMPv6 shares with it (icmp.h): echo replies from the VIPs and
// local addresses, and translation of errors (destination unreachable, time exceeded,
// parameter problem; for ICMPv6 also packet too big) that quote a packet of a session, so path
// MTU discovery and "port unreachable" work across the NAT in both directions. Errors about a
// NAT64 session change family on the way (icmp_translate.cc).
#include "icmp.h"

#include <algorithm>
#include <cstddef>
#include <cstring>

#include <netinet/icmp6.h>
#include <netinet/ip_icmp.h>

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

// The packet an ICMP error quotes, as a frame of the error's family: its IP header and what is
// quoted of its TCP/UDP header, at least the 8 bytes with the ports (and TCP's seq); l4_length
// counts the quoted bytes. False when the quote is shorter, or not of a TCP/UDP packet (an
// IPv6 quote with extension headers is not of a packet we sent).
bool find_quote(rte_mbuf* m, const IpFrame& f, IpFrame* quote) {
  constexpr uint32_t kQuotedPorts = 8;
  uint32_t icmp_offset = uint32_t(f.l4 - rte_pktmbuf_mtod(m, uint8_t*));
  uint32_t available = std::min<uint32_t>(f.l4_length, rte_pktmbuf_data_len(m) - icmp_offset);
  uint32_t header = f.v6 ? sizeof(rte_ipv6_hdr) : sizeof(rte_ipv4_hdr);   // at least
  if (available < sizeof(rte_icmp_hdr) + header + kQuotedPorts) return false;
  quote->ip = f.l4 + sizeof(rte_icmp_hdr);
  quote->v6 = f.v6;
  if (!f.v6) header = (quote->ip4()->version_ihl & 0x0f) * 4u;
  if (header < sizeof(rte_ipv4_hdr) || available < sizeof(rte_icmp_hdr) + header + kQuotedPorts) return false;
  quote->l4 = quote->ip + header;
  quote->l4_length = uint16_t(available - sizeof(rte_icmp_hdr) - header);
  quote->protocol = f.v6 ? quote->ip6()->proto : quote->ip4()->next_proto_id;
  return quote->protocol == IPPROTO_TCP || quote->protocol == IPPROTO_UDP;
}

// Rewrites the quote's addresses; returns their change (for the quoted TCP/UDP checksum) and
// adds to `message` every word of the ICMP message that changed (IPv4: the quote's header
// checksum too; IPv6 has none).
ChecksumDelta rewrite_quoted_addresses(const IpFrame& quote, const Address& source, const Address& destination,
                                       ChecksumDelta& message) {
  ChecksumDelta addresses;
  if (quote.v6) {
    uint8_t bytes[16];
    source.copy_to(bytes);
    addresses.replace128(quote.ip6()->src_addr, bytes);
    std::memcpy(quote.ip6()->src_addr, bytes, 16);
    destination.copy_to(bytes);
    addresses.replace128(quote.ip6()->dst_addr, bytes);
    std::memcpy(quote.ip6()->dst_addr, bytes, 16);
    message.add(addresses);
    return addresses;
  }
  addresses = rewrite_addresses(quote.ip4(), source, destination);
  uint16_t old_check = quote.ip4()->hdr_checksum;
  quote.ip4()->hdr_checksum = update_checksum(old_check, addresses);
  message.add(addresses);
  message.replace16(old_check, quote.ip4()->hdr_checksum);
  return addresses;
}

}  // namespace

// Type, addresses swapped, fresh TTL or hop limit; the checksums updated from the change.
// Cost: a dozen stores; no pass over the payload.
void answer_echo(Worker& w, rte_mbuf* m, const IpFrame& f, uint16_t in_port) {
  rte_icmp_hdr* icmp = f.icmp();
  ChecksumDelta message;
  store_byte(message, &icmp->icmp_type, icmp->icmp_type, f.v6 ? ICMP6_ECHO_REPLY : RTE_IP_ICMP_ECHO_REPLY);
  icmp->icmp_cksum = update_checksum(icmp->icmp_cksum, message);
  // The update gives 0 where the message sums to 0xffff, and also where it is all zeros (type 0,
  // id, sequence and data 0), whose only valid checksum is 0xffff; 0xffff holds for both.
  if (icmp->icmp_cksum == 0) icmp->icmp_cksum = 0xffff;

  if (f.v6) {
    // ICMPv6's pseudo-header holds both addresses: swapped, they sum as before.
    rte_ipv6_hdr* ip = f.ip6();
    uint8_t source[16];
    std::memcpy(source, ip->src_addr, 16);
    std::memcpy(ip->src_addr, ip->dst_addr, 16);
    std::memcpy(ip->dst_addr, source, 16);
    ip->hop_limits = kEchoTtl;
  } else {
    rte_ipv4_hdr* ip = f.ip4();
    rte_be32_t source = ip->src_addr;   // a swap leaves the header sum as it was
    ip->src_addr = ip->dst_addr;
    ip->dst_addr = source;
    ChecksumDelta header;
    store_byte(header, &ip->time_to_live, ip->time_to_live, kEchoTtl);
    ip->hdr_checksum = update_checksum(ip->hdr_checksum, header);
  }

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

ChecksumDelta rewrite_quoted_l4(const IpFrame& quote, const Session& s, Direction direction, const FlowKey& as_sent,
                                ChecksumDelta l4) {
  ChecksumDelta message;
  uint8_t* quoted_l4 = quote.l4;
  rewrite_ports(reinterpret_cast<rte_be16_t*>(quoted_l4), as_sent.source_port, as_sent.destination_port, message);
  if (quote.protocol == IPPROTO_TCP && direction == Direction::outbound) {
    // The quote of a segment sent to the server, in the server's sequence space (a PROXY
    // header shifted it): the client checks the quoted seq against what it has sent.
    rte_be32_t seq;
    std::memcpy(&seq, quoted_l4 + 4, 4);
    rte_be32_t client_side = rte_cpu_to_be_32(client_side_seq(s, rte_be_to_cpu_32(seq)));
    message.replace32(seq, client_side);
    std::memcpy(quoted_l4 + 4, &client_side, 4);
  }
  l4.add(message);
  uint16_t old_check;
  if (quote.protocol == IPPROTO_TCP && quote.l4_length >= offsetof(rte_tcp_hdr, cksum) + 2) {
    auto* tcp = reinterpret_cast<rte_tcp_hdr*>(quoted_l4);
    old_check = tcp->cksum;
    tcp->cksum = update_checksum(old_check, l4);
    message.replace16(old_check, tcp->cksum);
  } else if (quote.protocol == IPPROTO_UDP) {
    auto* udp = reinterpret_cast<rte_udp_hdr*>(quoted_l4);
    old_check = udp->dgram_cksum;
    udp->dgram_cksum = update_udp_checksum(old_check, l4);
    message.replace16(old_check, udp->dgram_cksum);
  }
  return message;
}

// The quote is of a packet we sent; the quoted TCP/UDP checksum is fixed too when quoted.
// Cost: a session lookup and ~60 ALU operations (IPv6: ~120); no pass over the message (but
// for NAT64, icmp_translate.cc).
bool translate_error(Worker& w, rte_mbuf* m, const IpFrame& f, uint16_t in_port) {
  IpFrame quote;
  if (!find_quote(m, f, &quote)) return false;
  // The quoted packet went from us to the peer; the peer's packets of that flow are its mirror.
  const FlowKey sent = quote.key();
  const FlowKey key{sent.destination, sent.source, sent.destination_port, sent.source_port, sent.protocol};
  uint16_t owner;
  if (w.snapshot->find_service(key.destination, key.destination_port, key.protocol))
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
  const Session& s = w.sessions->at(index);
  // From the client's side the quote becomes the server's packet, and the other way round.
  const FlowKey& as_sent = direction == Direction::inbound ? s.outbound : s.inbound;
  if (f.hop_limit() <= 1) {
    w.drop(m, in_port, Drop::ttl);
    return true;
  }
  Egress egress = direction == Direction::inbound ? server_egress(w, s) : client_egress(w, s);
  // A NAT64 session's other side is of the other family (icmp_translate.cc).
  if (as_sent.source.is_v4() == f.v6) {
    translate_error_across(w, m, f, QuotedSession{quote, s, direction, as_sent, egress}, in_port);
    return true;
  }

  // The quote: addresses, ports, its TCP/UDP checksum when quoted; the ICMP checksum covers all
  // of those words.
  ChecksumDelta message;
  ChecksumDelta l4 = rewrite_quoted_addresses(quote, as_sent.source, as_sent.destination, message);
  message.add(rewrite_quoted_l4(quote, s, direction, as_sent, l4));
  // The outer header: ICMPv6's checksum covers its addresses (the pseudo-header), ICMP's not.
  if (f.v6) message.add(translate_ip6(f.ip6(), as_sent.destination, as_sent.source));
  else translate_ip(f.ip4(), as_sent.destination, as_sent.source);
  f.icmp()->icmp_cksum = update_checksum(f.icmp()->icmp_cksum, message);
  w.send_ip(m, egress);
  return true;
}

void handle_icmp(Worker& w, rte_mbuf* m, const IpFrame& f, uint16_t in_port) {
  const PortInfo* port = w.snapshot->port(in_port);
  uint8_t type = f.icmp()->icmp_type;
  if (type == RTE_IP_ICMP_ECHO_REQUEST && port && owns(*port, f.destination())) return answer_echo(w, m, f, in_port);
  if ((type == ICMP_UNREACH || type == ICMP_TIMXCEED || type == ICMP_PARAMPROB) && translate_error(w, m, f, in_port))
    return;
  w.drop(m, in_port, Drop::no_service);
}

}  // namespace l4lb
