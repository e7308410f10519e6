// IPv6 neighbour discovery (RFC 4861), the IPv6 side of what l2.cc does with ARP:
//   - a solicitation for an owned address of the port gets a solicited advertisement (to the
//     asker; to all nodes when it is a duplicate address detection probe, from ::); one for the
//     port's IPv6 probe address goes to its kernel side (the tap), which answers it;
//   - solicitations teach the table their sender, advertisements their target, by l2.cc's
//     learn(), under ARP's rule: what is addressed to us creates an entry (a solicitation for
//     an owned address; an advertisement sent to one, the answer to a solicitation of ours,
//     perhaps another worker's, whose pending entry the shared copy then fills), anything else
//     only refreshes a known or pending one (so the solicitations every host on the link sends
//     do not fill the table); what is learnt from the wire goes to the other workers too;
//   - unresolved next hops are solicited at their solicited-node group from an owned address, so
//     the advertisement comes back to the data plane, not to the kernel;
//   - a node promoted after a failover announces its addresses with unsolicited advertisements.
// Left out: neighbour unreachability detection (entries age as ARP's do, neighbour.h), the
// Override flag (the last advertisement wins, as the last ARP reply does), router discovery and
// redirects (routes are configured), and duplicate address detection of our own addresses
// (the control plane assigns them).
//
// Not on the fast path (ND is rare next to the traffic it resolves for): checking a message
// costs a checksum pass over its ~32 bytes; an answer is a new frame from the pool, since a
// solicitation may be shorter than the advertisement, or span segments.
#include "nd.h"

#include <cstring>

#include "checksum.h"
#include "flow.h"
#include "ip_header.h"
#include "neighbour.h"

namespace l4lb {

namespace {

constexpr uint8_t kHopLimit = 255;         // on-link only: a routed message arrives with less
constexpr uint16_t kMessageLength = 24;    // type, code, checksum, flags and reserved, target
constexpr uint16_t kOptionLength = 8;      // a link-layer address option for Ethernet
constexpr uint8_t kSolicited = 0x40, kOverride = 0x20;   // the advertisement's flags (its byte 4)
const uint8_t kAllNodes[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
const uint8_t kSolicitedNodePrefix[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};   // ff02::1:ff00:0/104

// A solicitation or advertisement that passed parse().
struct Message {
  uint8_t type = 0, flags = 0;
  Address target;
  const uint8_t* link_layer = nullptr;   // the MAC of the source (NS) or target (NA) option
};

// The Ethernet group of an IPv6 multicast address (RFC 2464 7): 33:33 and its last 32 bits.
void multicast_mac(const uint8_t* group, uint8_t* mac) {
  mac[0] = mac[1] = 0x33;
  std::memcpy(mac + 2, group + 12, 4);
}

// Validates a solicitation or advertisement (RFC 4861 7.1.1, 7.1.2) and reads what it says.
// The whole message must lie in the first segment: it is a few dozen bytes.
bool parse(rte_mbuf* m, const IpFrame& f, Message* message) {
  const uint8_t* icmp = f.l4;
  const uint32_t length = f.l4_length;
  if (f.hop_limit() != kHopLimit || length < kMessageLength || icmp[1] != 0 ||
      icmp + length > rte_pktmbuf_mtod(m, uint8_t*) + rte_pktmbuf_data_len(m))
    return false;
  if (fold_checksum(uint32_t(rte_raw_cksum(icmp, length)) + pseudo_header_sum(f)) != 0xffff) return false;
  if (icmp[8] == 0xff || is_v4_mapped(icmp + 8)) return false;   // a multicast or IPv4-mapped target
  message->type = icmp[0];
  message->flags = icmp[4];
  message->target = Address::v6(icmp + 8);
  const uint8_t wanted = message->type == ND_NEIGHBOR_SOLICIT ? ND_OPT_SOURCE_LINKADDR : ND_OPT_TARGET_LINKADDR;
  for (uint32_t at = kMessageLength; at < length;) {
    uint32_t option = at + 2 <= length ? icmp[at + 1] * 8u : 0;
    if (option == 0 || at + option > length) return false;
    if (icmp[at] == wanted) message->link_layer = icmp + at + 2;
    at += option;
  }
  const uint8_t* destination = f.ip6()->dst_addr;
  if (message->type == ND_NEIGHBOR_SOLICIT && f.source() == Address())   // duplicate address detection
    return std::memcmp(destination, kSolicitedNodePrefix, sizeof kSolicitedNodePrefix) == 0 && !message->link_layer;
  return !(message->type == ND_NEIGHBOR_ADVERT && destination[0] == 0xff && (message->flags & kSolicited));
}

// Sends a solicitation or advertisement of `type` from `port`: `source` → `destination` (at
// `destination_mac`) about `target`, with the port's MAC as its link-layer option.
void send_message(Worker& w, const PortInfo& port, uint8_t type, uint8_t flags, const Address& source,
                  const uint8_t* destination, const uint8_t* destination_mac, const Address& target) {
  constexpr uint16_t kLength = kMessageLength + kOptionLength;
  constexpr uint32_t kFrame = kEtherLength + sizeof(rte_ipv6_hdr) + kLength;
  rte_mbuf* m = w.pool ? rte_pktmbuf_alloc(w.pool) : nullptr;
  uint8_t* frame = m ? reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, kFrame)) : nullptr;
  if (!frame) {   // pool exhausted: the retry timer or the asker asks again
    rte_pktmbuf_free(m);
    return;
  }
  std::memset(frame, 0, kFrame);
  std::memcpy(frame, destination_mac, 6);
  std::memcpy(frame + 6, port.mac.bytes, 6);
  frame[12] = RTE_ETHER_TYPE_IPV6 >> 8;
  frame[13] = RTE_ETHER_TYPE_IPV6 & 0xff;
  IpFrame f =
      write_ip_header(frame + kEtherLength, source, Address::v6(destination), IPPROTO_ICMPV6, kHopLimit, 0, kLength);
  uint8_t* icmp = f.l4;
  icmp[0] = type;
  icmp[4] = flags;
  target.copy_to(icmp + 8);
  icmp[kMessageLength] = type == ND_NEIGHBOR_SOLICIT ? ND_OPT_SOURCE_LINKADDR : ND_OPT_TARGET_LINKADDR;
  icmp[kMessageLength + 1] = kOptionLength / 8;
  std::memcpy(icmp + kMessageLength + 2, port.mac.bytes, 6);
  f.icmp()->icmp_cksum = full_l4_checksum(f);
  ++w.counters->ports[port.port].nd_out;
  w.send_raw(m, port.port);
}

}  // namespace

void handle_neighbour_discovery(Worker& w, rte_mbuf* m, const IpFrame& f, uint16_t in_port, bool from_wire) {
  if (from_wire) ++w.counters->ports[in_port].nd_in;
  const PortInfo* port = w.snapshot->port(in_port);
  Message message;
  if (!port || !parse(m, f, &message)) return w.drop(m, in_port, Drop::malformed);
  const bool solicitation = message.type == ND_NEIGHBOR_SOLICIT;
  const uint8_t* ethernet = rte_pktmbuf_mtod(m, uint8_t*);
  // A solicitation names its sender's MAC in its option only; an advertisement without one
  // comes from its target (RFC 4861 7.2.5 lets it leave the option out when answering unicast).
  const uint8_t* mac = message.link_layer ? message.link_layer : solicitation ? nullptr : ethernet + 6;
  const Address neighbour = solicitation ? f.source() : message.target;
  const bool for_us = owns(*port, solicitation ? message.target : f.destination());
  const bool learnt = mac && (for_us || w.neighbours->find(neighbour) != nullptr);
  if (learnt) {
    rte_ether_addr address;   // a copy: the option may lie at an odd address
    std::memcpy(address.addr_bytes, mac, 6);
    learn(w, neighbour, address, in_port, for_us);
    if (from_wire) share_with_other_workers(w, m);
  }
  if (!from_wire || (learnt && !solicitation)) {
    rte_pktmbuf_free(m);   // a copy to learn from, or an answer: done
    return;
  }
  // The kernel side answers for its IPv6 probe address itself, on a backup too (worker.cc
  // passes it what is sent to that address; a solicitation comes to a group).
  if (solicitation && message.target == port->probe6 && !port->probe6.is_unset()) {
    if (port->tap == kNoPort) return w.drop(m, in_port, Drop::no_service);
    ++w.counters->ports[in_port].to_kernel;
    return w.send_raw(m, port->tap);
  }
  if (!solicitation || !for_us) return w.drop(m, in_port, Drop::no_service);
  if (w.snapshot->backup) return w.drop(m, in_port, Drop::backup);   // the active node answers
  // A probe from :: (duplicate address detection) learns from all nodes that the address is taken.
  uint8_t destination[16], destination_mac[6];
  const bool probe = f.source() == Address();
  if (probe) {
    std::memcpy(destination, kAllNodes, 16);
    multicast_mac(kAllNodes, destination_mac);
  } else {
    f.source().copy_to(destination);
    std::memcpy(destination_mac, message.link_layer ? message.link_layer : ethernet + 6, 6);
  }
  send_message(w, *port, ND_NEIGHBOR_ADVERT, probe ? kOverride : kSolicited | kOverride, message.target, destination,
               destination_mac, message.target);
  rte_pktmbuf_free(m);
}

void send_neighbour_solicitation(Worker& w, const PortInfo& port, const Address& target) {
  const Address* source = nullptr;
  for (const Address& a : port.owned)
    if (!a.is_v4()) {
      source = &a;
      break;
    }
  if (!source) return;
  uint8_t group[16], mac[6];
  target.copy_to(group);   // ff02::1:ff and the target's last 24 bits
  std::memcpy(group, kSolicitedNodePrefix, sizeof kSolicitedNodePrefix);
  multicast_mac(group, mac);
  send_message(w, port, ND_NEIGHBOR_SOLICIT, 0, *source, group, mac, target);
}

void send_unsolicited_advertisement(Worker& w, const PortInfo& port, const Address& address) {
  uint8_t mac[6];
  multicast_mac(kAllNodes, mac);
  send_message(w, port, ND_NEIGHBOR_ADVERT, kOverride, address, kAllNodes, mac, address);
}

}  // namespace l4lb
