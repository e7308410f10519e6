// ICMP errors about NAT64 sessions (icmp.h, translate_error_across): an ICMP error from the
// IPv4 side becomes an ICMPv6 error to the IPv6 client (RFC 7915 4.2), an ICMPv6 error from the
// client an ICMP error to the IPv4 server (5.2), so path MTU discovery and "port unreachable"
// work across the families as they do within one.
//
// Not the hot path: errors are rare. The headers change size twice (outer and quoted) and the
// quote may have to be cut, so the error is written into a new frame and its checksum computed
// over the whole message; the incoming checksum is verified first, or a corrupted error would
// leave with a valid one. ICMP extensions (RFC 4884) are not translated: the length that
// announces them is not carried over, so they read as more of the quote.
#include "icmp.h"

#include <algorithm>
#include <cstring>

#include <netinet/icmp6.h>
#include <netinet/ip_icmp.h>
#include <rte_random.h>

#include "big_endian.h"
#include "ip_header.h"
#include "nat64.h"

namespace l4lb {

namespace {

constexpr uint32_t kGrowth = sizeof(rte_ipv6_hdr) - sizeof(rte_ipv4_hdr);   // 20
constexpr uint32_t kIpv6MinimumMtu = 1280;   // RFC 8200 5; an ICMPv6 error fits in it (RFC 4443 2.4)
constexpr uint32_t kIpv4MinimumMtu = 68;     // RFC 791
constexpr uint32_t kIpv4ErrorLimit = 576;    // an ICMP error's greatest length (RFC 1812 4.3.2.3)

// An error's type, code and second 32-bit word (an MTU, a pointer), in host order.
struct Message {
  uint8_t type, code;
  uint32_t word;
};

// The MTUs of the session's ports: towards the IPv6 client and towards the IPv4 server.
struct SideMtus {
  uint32_t v6, v4;
};

// RFC 1191 5 and 7: the greatest plateau below the quoted packet's length, for a router that
// gave no MTU (one from before RFC 1191).
uint32_t plateau_below(uint32_t length) {
  static constexpr uint32_t kPlateaus[] = {65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296};
  for (uint32_t plateau : kPlateaus)
    if (plateau < length) return plateau;
  return kIpv4MinimumMtu;
}

// RFC 7915 4.2: min(advertised + 20, IPv6 side's MTU, IPv4 side's MTU + 20), and not below
// 1280, under which no IPv6 host lowers its path MTU (RFC 8200 5).
uint32_t ipv6_path_mtu(uint32_t advertised, uint32_t quoted_length, const SideMtus& mtu) {
  uint32_t path = advertised ? advertised : plateau_below(quoted_length);
  return std::max(std::min({path + kGrowth, mtu.v6, mtu.v4 + kGrowth}), kIpv6MinimumMtu);
}

// RFC 7915 5.2: min(advertised - 20, IPv4 side's MTU, IPv6 side's MTU - 20), and not below
// IPv4's least (nor, by the port MTUs, above what ICMP's 16-bit field holds).
uint32_t ipv4_path_mtu(uint32_t advertised, const SideMtus& mtu) {
  uint32_t path = std::min({advertised, mtu.v4 + kGrowth, mtu.v6});
  return std::max(path, kIpv4MinimumMtu + kGrowth) - kGrowth;
}

// RFC 7915 Figure 3: an IPv4 header field's offset in IPv6 (-1: no such field).
int ipv6_pointer(uint32_t ipv4_pointer) {
  static constexpr int8_t kFigure3[20] = {0, 1, 4, 4, -1, -1, -1, -1, 7, 6, -1, -1, 8, 8, 8, 8, 24, 24, 24, 24};
  return ipv4_pointer < 20 ? kFigure3[ipv4_pointer] : -1;
}

// RFC 7915 Figure 6: an IPv6 header field's offset in IPv4 (-1: no such field).
int ipv4_pointer(uint32_t ipv6_pointer) {
  static constexpr int8_t kFigure6[8] = {0, 1, -1, -1, 2, 2, 9, 8};
  if (ipv6_pointer < 8) return kFigure6[ipv6_pointer];
  if (ipv6_pointer < 24) return 12;   // the source address
  return ipv6_pointer < 40 ? 16 : -1;   // the destination address
}

// RFC 7915 4.2: the ICMPv6 error for an ICMP one; false when it has none (dropped).
// `quoted_length`: the quoted packet's total length, for plateau_below().
bool to_icmpv6(const Message& in, uint32_t quoted_length, const SideMtus& mtu, Message* out) {
  switch (in.type) {
    case ICMP_UNREACH: {
      // ICMPv6's code for codes 0-15; -1: protocol (2) and fragmentation needed (4), which
      // become other types, and host precedence violation (14), which has no equivalent.
      static constexpr int8_t kCodes[16] = {0, 0, -1, 4, -1, 0, 0, 0, 0, 1, 1, 0, 0, 1, -1, 1};
      if (in.code == ICMP_UNREACH_PROTOCOL) *out = {ICMP6_PARAM_PROB, ICMP6_PARAMPROB_NEXTHEADER, 6};   // Next Header
      else if (in.code == ICMP_UNREACH_NEEDFRAG)   // the next-hop MTU in the low 16 bits (RFC 1191)
        *out = {ICMP6_PACKET_TOO_BIG, 0, ipv6_path_mtu(in.word & 0xffff, quoted_length, mtu)};
      else if (in.code < 16 && kCodes[in.code] >= 0) *out = {ICMP6_DST_UNREACH, uint8_t(kCodes[in.code]), 0};
      else return false;
      return true;
    }
    case ICMP_TIMXCEED: *out = {ICMP6_TIME_EXCEEDED, in.code, 0}; return true;
    case ICMP_PARAMPROB: {   // codes 0 (pointer) and 2 (bad length) point; 1 (missing option) cannot
      int pointer = ipv6_pointer(in.word >> 24);   // ICMP's pointer is its fifth byte
      if ((in.code != 0 && in.code != 2) || pointer < 0) return false;
      *out = {ICMP6_PARAM_PROB, ICMP6_PARAMPROB_HEADER, uint32_t(pointer)};
      return true;
    }
    default: return false;
  }
}

// RFC 7915 5.2: the ICMP error for an ICMPv6 one; false when it has none (dropped).
bool to_icmpv4(const Message& in, const SideMtus& mtu, Message* out) {
  switch (in.type) {
    case ICMP6_DST_UNREACH: {
      // No route, administratively prohibited, beyond scope, address, port unreachable.
      static constexpr uint8_t kCodes[5] = {ICMP_UNREACH_HOST, ICMP_UNREACH_HOST_PROHIB, ICMP_UNREACH_HOST,
                                            ICMP_UNREACH_HOST, ICMP_UNREACH_PORT};
      if (in.code >= 5) return false;
      *out = {ICMP_UNREACH, kCodes[in.code], 0};
      return true;
    }
    case ICMP6_PACKET_TOO_BIG: *out = {ICMP_UNREACH, ICMP_UNREACH_NEEDFRAG, ipv4_path_mtu(in.word, mtu)}; return true;
    case ICMP6_TIME_EXCEEDED: *out = {ICMP_TIMXCEED, in.code, 0}; return true;
    case ICMP6_PARAM_PROB: {
      if (in.code == ICMP6_PARAMPROB_NEXTHEADER) {
        *out = {ICMP_UNREACH, ICMP_UNREACH_PROTOCOL, 0};
        return true;
      }
      int pointer = ipv4_pointer(in.word);
      if (in.code != ICMP6_PARAMPROB_HEADER || pointer < 0) return false;
      *out = {ICMP_PARAMPROB, 0, uint32_t(pointer) << 24};
      return true;
    }
    default: return false;
  }
}

// Whether the incoming error's checksum holds (ICMPv6's over the pseudo-header too), over every
// segment of it.
bool checksum_holds(rte_mbuf* m, const IpFrame& f) {
  uint16_t sum;
  if (rte_raw_cksum_mbuf(m, uint32_t(f.l4 - rte_pktmbuf_mtod(m, uint8_t*)), f.l4_length, &sum) != 0) return false;
  return fold_checksum(uint32_t(sum) + (f.v6 ? pseudo_header_sum(f) : 0)) == 0xffff;
}

// RFC 7915 5.1: a translated packet of at most 1260 bytes goes without DF, so it needs an
// identification of its own (RFC 6864 4.1): a random one, since a worker keeps no counter.
void allow_fragments(rte_ipv4_hdr* ip) {
  const rte_be16_t id = rte_cpu_to_be_16(uint16_t(rte_rand()));
  ChecksumDelta change;
  change.replace16(ip->packet_id, id);
  change.replace16(ip->fragment_offset, 0);
  ip->packet_id = id;
  ip->fragment_offset = 0;
  ip->hdr_checksum = update_checksum(ip->hdr_checksum, change);
}

// The quoted packet's TCP/UDP length as its header gives it (the quote itself may be cut short).
uint16_t quoted_l4_length(const IpFrame& quote) {
  if (quote.v6) return rte_be_to_cpu_16(quote.ip6()->payload_len);
  return uint16_t(std::max(int(ip_packet_length(quote)) - int(quote.ip_header_length()), 0));
}

}  // namespace

// Cost: a buffer, two passes over at most 1280 bytes (checksums) and one copy of the quote.
void translate_error_across(Worker& w, rte_mbuf* m, const IpFrame& f, const QuotedSession& q, uint16_t in_port) {
  const bool to_v6 = !f.v6;
  const IpFrame& quote = q.quote;
  const Message in{f.l4[0], f.l4[1], get32(f.l4 + 4)};
  const PortInfo* client_side = w.snapshot->port(q.session.client_port_id);
  const PortInfo* server_side = w.snapshot->port(q.session.server_port_id);
  const SideMtus mtu{client_side ? client_side->mtu : 0xffffu, server_side ? server_side->mtu : 0xffffu};
  Message out;
  if (!(to_v6 ? to_icmpv6(in, ip_packet_length(quote), mtu, &out) : to_icmpv4(in, mtu, &out)))
    return w.drop(m, in_port, Drop::translation);
  if (!checksum_holds(m, f)) return w.drop(m, in_port, Drop::malformed);

  // The quote as much as fits the least MTU of the error's family, or ICMP's 576 bytes.
  const uint32_t ip_header = to_v6 ? sizeof(rte_ipv6_hdr) : sizeof(rte_ipv4_hdr);
  const uint32_t limit = to_v6 ? kIpv6MinimumMtu : kIpv4ErrorLimit;
  const uint16_t kept = uint16_t(std::min<uint32_t>(quote.l4_length, limit - 2 * ip_header - sizeof(rte_icmp_hdr)));
  const uint16_t message_length = uint16_t(sizeof(rte_icmp_hdr) + ip_header + kept);
  rte_mbuf* e = w.pool ? rte_pktmbuf_alloc(w.pool) : nullptr;
  if (!e || !rte_pktmbuf_append(e, uint16_t(kEtherLength + ip_header + message_length))) {
    rte_pktmbuf_free(e);
    return w.drop(m, in_port, Drop::translation);
  }

  // The quoted TCP/UDP header first, in place: its checksum sees the pseudo-header's addresses
  // change family. The message's own checksum is computed afresh below.
  const Address& source = q.as_sent.source;
  const Address& destination = q.as_sent.destination;
  rewrite_quoted_l4(quote, q.session, q.direction, q.as_sent,
                    pseudo_header_change(quote.source(), quote.destination(), source, destination));
  const uint8_t protocol = to_v6 ? uint8_t(IPPROTO_ICMPV6) : uint8_t(IPPROTO_ICMP);
  const IpFrame outer = write_ip_header(header_at<uint8_t>(e, kEtherLength), destination, source, protocol,
                                       uint8_t(f.hop_limit() - 1), traffic_class(f), message_length);
  if (!to_v6) allow_fragments(outer.ip4());
  uint8_t* message = outer.l4;
  message[0] = out.type;
  message[1] = out.code;
  put16(message + 2, 0);
  put32(message + 4, out.word);
  const IpFrame quoted = write_ip_header(message + sizeof(rte_icmp_hdr), source, destination, quote.protocol,
                                         quote.hop_limit(), traffic_class(quote), quoted_l4_length(quote));
  std::memcpy(quoted.l4, quote.l4, kept);
  // ICMPv6 sums as TCP and UDP do, over the pseudo-header; ICMP over the message alone.
  const uint16_t check = to_v6 ? full_l4_checksum(outer) : uint16_t(~rte_raw_cksum(message, message_length));
  std::memcpy(message + 2, &check, 2);

  rte_pktmbuf_free(m);
  e->port = in_port;   // where a drop on the way out is counted
  w.send_ip(e, q.egress);
}

}  // namespace l4lb
