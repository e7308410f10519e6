// Layer 2 of a worker: Ethernet output through the neighbour table, ARP (answers for owned
// addresses, learning, requests for unresolved next hops, gratuitous announcements), the
// transmit buffers, and the exception path's frames to and from the kernel tap. IPv6 next hops
// are asked for and announced by neighbour discovery (nd.cc), which learns through learn().
//
// ARP answers reach one worker only (af_packet and RSS spread frames over queues), yet every
// worker keeps its own table. So the worker that learns a neighbour from the wire passes a copy
// of the ARP (or ND) frame to every other worker's inbox; they learn from it without answering.
#include <cstring>

#include <rte_arp.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include "flow.h"
#include "nd.h"
#include "neighbour.h"
#include "packet.h"
#include "worker.h"

namespace l4lb {

namespace {

// The sender address of our ARP requests (host byte order): an owned IPv4 address of the port
// (its replies then come back to the data plane, not to the kernel), else 0.0.0.0 as in an ARP
// probe.
uint32_t arp_source(const PortInfo& port) {
  for (const Address& a : port.owned)
    if (a.is_v4()) return a.v4();
  return 0;
}

void fill_arp(rte_mbuf* m, const PortInfo& port, uint16_t op, uint32_t sender, const rte_ether_addr& target_mac,
              uint32_t target) {
  auto* eth = header_at<rte_ether_hdr>(m, 0);
  auto* arp = header_at<rte_arp_hdr>(m, kEtherLength);
  std::memcpy(&eth->src_addr, port.mac.bytes, 6);
  eth->dst_addr = op == RTE_ARP_OP_REQUEST ? rte_ether_addr{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}} : target_mac;
  eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
  arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
  arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
  arp->arp_hlen = RTE_ETHER_ADDR_LEN;
  arp->arp_plen = 4;
  arp->arp_opcode = rte_cpu_to_be_16(op);
  std::memcpy(&arp->arp_data.arp_sha, port.mac.bytes, 6);
  arp->arp_data.arp_sip = rte_cpu_to_be_32(sender);
  arp->arp_data.arp_tha = op == RTE_ARP_OP_REQUEST ? rte_ether_addr{} : target_mac;
  arp->arp_data.arp_tip = rte_cpu_to_be_32(target);
}

// A new ARP request or gratuitous announcement from the worker's pool.
void send_arp_request(Worker& w, const PortInfo& port, uint32_t sender, uint32_t target) {
  rte_mbuf* m = w.pool ? rte_pktmbuf_alloc(w.pool) : nullptr;
  if (!m) return;   // pool exhausted: the retry timer asks again
  constexpr uint16_t length = kEtherLength + sizeof(rte_arp_hdr);
  if (!rte_pktmbuf_append(m, length)) {
    rte_pktmbuf_free(m);
    return;
  }
  fill_arp(m, port, RTE_ARP_OP_REQUEST, sender, rte_ether_addr{}, target);
  ++w.counters->ports[port.port].arp_out;
  w.send_raw(m, port.port);
}

// Asks who has `address`: an ARP request for IPv4, a neighbour solicitation for IPv6.
void ask_neighbour(Worker& w, const PortInfo& port, const Address& address) {
  if (address.is_v4()) send_arp_request(w, port, arp_source(port), address.v4());
  else send_neighbour_solicitation(w, port, address);
}

// The Ethernet header of an IP frame from `port` to `n`, whose family is the next hop's, written
// byte by byte: a frame whose headers moved in front of a PROXY v1 header (l4_grow.h) may start
// at an odd address, where rte_ether_hdr, which is 2-byte aligned, must not be used.
void write_ethernet(uint8_t* at, const PortInfo& port, const Neighbour& n) {
  std::memcpy(at, n.mac.bytes, 6);
  std::memcpy(at + 6, port.mac.bytes, 6);
  const uint16_t type = rte_cpu_to_be_16(n.address.is_v4() ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6);
  std::memcpy(at + 12, &type, sizeof type);
}

// Fills the Ethernet header towards a resolved neighbour and buffers the frame.
void transmit(Worker& w, rte_mbuf* m, const PortInfo& port, const Neighbour& n) {
  write_ethernet(rte_pktmbuf_mtod(m, uint8_t*), port, n);
  m->port = port.port;
  w.send_raw(m, port.port);
}

// Keeps the header towards a fresh neighbour for the frames that follow (neighbour.h).
void remember(Worker& w, const Egress& egress, const PortInfo& port, const Neighbour& n) {
  ResolvedHop& hop = w.neighbours->resolved(egress.next_hop);
  hop.next_hop = egress.next_hop;
  hop.port = egress.port;
  write_ethernet(hop.ethernet, port, n);
  hop.generation = w.neighbours->generation();
  hop.fresh_until_ms = n.confirmed_ms + Neighbours::kReachableMs;
}

// Hands a port's buffered frames to the driver; what it does not take is dropped (tx_full).
void send_buffered(Worker& w, uint16_t port) {
  Worker::TxBuffer& buffer = w.tx[port];
  uint16_t count = buffer.count;
  buffer.count = 0;
  w.tx_pending &= ~(uint64_t(1) << port);
  uint64_t bytes = 0;   // counted before: the driver may free what it sent at once
  for (uint16_t i = 0; i < count; ++i) bytes += rte_pktmbuf_pkt_len(buffer.frames[i]);
  uint16_t sent = rte_eth_tx_burst(port, w.id, buffer.frames, count);
  for (uint16_t i = sent; i < count; ++i) {
    bytes -= rte_pktmbuf_pkt_len(buffer.frames[i]);
    w.drop(buffer.frames[i], port, Drop::tx_full);
  }
  PortCounters& c = w.counters->ports[port];
  c.tx_packets += sent;
  c.tx_bytes += bytes;
}

// send_ip() without a fresh resolved hop. Cost: the snapshot's port, a probe of the neighbour
// table and the resolved hop refilled; a first frame towards an unknown next hop also builds
// an ARP request or a neighbour solicitation. Kept out of line so that send_ip() saves no registers.
__attribute__((noinline)) void resolve(Worker& w, rte_mbuf* m, const Egress& egress) {
  const PortInfo* port = w.snapshot ? w.snapshot->port(egress.port) : nullptr;
  if (!port) return w.drop(m, m->port, Drop::no_route);
  Neighbour* n = w.neighbours->find(egress.next_hop);
  if (n && n->state == Neighbour::State::reachable) {
    if (w.now_ms - n->confirmed_ms <= Neighbours::kReachableMs) {
      remember(w, egress, *port, *n);
    } else if (w.now_ms - n->requested_ms >= Neighbours::kRetryMs) {
      n->requested_ms = w.now_ms;   // stale: keep using it, but ask again
      ask_neighbour(w, *port, egress.next_hop);
    }
    return transmit(w, m, *port, *n);
  }
  if (!n) n = w.neighbours->find_or_add(egress.next_hop, w.now_ms);
  if (!n || n->queued == Neighbour::kQueueLength) return w.drop(m, egress.port, Drop::neighbour_queue);
  n->port = egress.port;
  n->queue[n->queued++] = m;
  if (n->requested_ms == 0 || w.now_ms - n->requested_ms >= Neighbours::kRetryMs) {
    n->requested_ms = w.now_ms;
    ask_neighbour(w, *port, egress.next_hop);
  }
}

}  // namespace

void learn(Worker& w, const Address& address, const rte_ether_addr& mac, uint16_t port, bool create) {
  Neighbour* n = create ? w.neighbours->find_or_add(address, w.now_ms) : w.neighbours->find(address);
  if (!n) return;
  std::memcpy(n->mac.bytes, mac.addr_bytes, 6);
  n->state = Neighbour::State::reachable;
  n->confirmed_ms = w.now_ms;
  w.neighbours->changed();   // a new MAC is used from the next frame on
  uint8_t queued = n->queued;
  n->queued = 0;
  if (queued == 0) n->port = port;   // else the port the queued frames wait to leave by
  const PortInfo* info = w.snapshot ? w.snapshot->port(n->port) : nullptr;
  for (uint8_t i = 0; i < queued; ++i) {
    if (info) transmit(w, n->queue[i], *info, *n);
    else w.drop(n->queue[i], port, Drop::no_route);
  }
}

void share_with_other_workers(Worker& w, rte_mbuf* m) {
  if (!w.all || !w.pool) return;
  for (Worker* other : *w.all) {
    if (other == &w) continue;
    rte_mbuf* copy = rte_pktmbuf_copy(m, w.pool, 0, UINT32_MAX);
    if (!copy) return;
    copy->port = m->port;
    if (rte_ring_enqueue(other->inbox, copy) != 0) rte_pktmbuf_free(copy);   // it asks again later
  }
}

// Cost, as nearly every packet goes: a multiply, four compares against one cached line
// (neighbour.h, resolved hops), 14 bytes copied and send_raw(). Otherwise resolve().
void Worker::send_ip(rte_mbuf* m, const Egress& egress) {
  const ResolvedHop& hop = neighbours->resolved(egress.next_hop);
  if (hop.next_hop != egress.next_hop || hop.port != egress.port || hop.generation != neighbours->generation() ||
      now_ms > hop.fresh_until_ms)
    return resolve(*this, m, egress);
  std::memcpy(rte_pktmbuf_mtod(m, void*), hop.ethernet, sizeof hop.ethernet);
  m->port = egress.port;
  send_raw(m, egress.port);
}

// Cost: three stores; a full buffer is sent at once.
void Worker::send_raw(rte_mbuf* m, uint16_t port) {
  if (port >= kMaxPorts) return drop(m, m->port, Drop::no_route);
  TxBuffer& buffer = tx[port];
  buffer.frames[buffer.count++] = m;
  tx_pending |= uint64_t(1) << port;
  if (buffer.count == kBurst) send_buffered(*this, port);
}

// Cost: one test of tx_pending when nothing is buffered (every idle poll), else one burst per
// port with frames. Only ports of the current snapshot ever have a bit set, since every poll
// ends here and a new snapshot is taken at the start of the next.
void Worker::flush_tx() {
  for (uint64_t ports = tx_pending; ports; ports &= ports - 1) send_buffered(*this, uint16_t(__builtin_ctzll(ports)));
}

// Not on the packet fast path (ARP is rare), but no allocation either except the copies for
// the other workers.
void Worker::handle_arp(rte_mbuf* m, uint16_t in_port, bool from_wire) {
  const PortInfo* port = snapshot ? snapshot->port(in_port) : nullptr;
  PortCounters& c = counters->ports[in_port];
  if (from_wire) ++c.arp_in;
  if (!port || rte_pktmbuf_data_len(m) < kEtherLength + sizeof(rte_arp_hdr)) return drop(m, in_port, Drop::malformed);
  auto* arp = header_at<rte_arp_hdr>(m, kEtherLength);
  if (arp->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
      arp->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) || arp->arp_hlen != 6 || arp->arp_plen != 4)
    return drop(m, in_port, Drop::malformed);
  uint16_t op = rte_be_to_cpu_16(arp->arp_opcode);
  uint32_t sender = rte_be_to_cpu_32(arp->arp_data.arp_sip);
  uint32_t target = rte_be_to_cpu_32(arp->arp_data.arp_tip);
  if (from_wire && port->probe.is_v4() && target == port->probe.v4() && target != 0) {
    if (port->tap == kNoPort) return drop(m, in_port, Drop::no_service);
    ++c.to_kernel;
    return send_raw(m, port->tap);
  }
  bool for_us = owns(*port, Address::v4(target));
  // Learn from what is addressed to us; otherwise only refresh what we already know
  // (gratuitous ARP after a failover, a real server's MAC change).
  bool learnt = sender != 0 && (for_us || neighbours->find(Address::v4(sender)) != nullptr);
  if (learnt) {
    learn(*this, Address::v4(sender), arp->arp_data.arp_sha, in_port, for_us);
    if (from_wire) share_with_other_workers(*this, m);
  }
  if (!from_wire || (learnt && op != RTE_ARP_OP_REQUEST)) {
    rte_pktmbuf_free(m);   // a copy to learn from, or an answer: done
    return;
  }
  if (!for_us || op != RTE_ARP_OP_REQUEST) return drop(m, in_port, Drop::no_service);
  if (snapshot->backup) return drop(m, in_port, Drop::backup);   // the active node answers
  rte_ether_addr asker = arp->arp_data.arp_sha;
  rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - (kEtherLength + sizeof(rte_arp_hdr)));
  fill_arp(m, *port, RTE_ARP_OP_REPLY, target, asker, sender);
  ++c.arp_out;
  send_raw(m, in_port);
}

void Worker::send_gratuitous_arp() {
  if (!snapshot || snapshot->backup) return;
  for (const PortInfo& port : snapshot->ports) {
    if (port.port == kNoPort) continue;
    for (const Address& address : port.owned) {
      if (address.is_v4()) send_arp_request(*this, port, address.v4(), address.v4());
      else send_unsolicited_advertisement(*this, port, address);
    }
  }
}

// Every Neighbours::kRetryMs: asks again for unresolved next hops, gives up after kGiveUpMs.
// Cost: a pass over the table's slots, ~2k compares, ten times a second.
void Worker::neighbour_timers() {
  for (uint32_t i = 0; i < Neighbours::kSlots; ++i) {
    Neighbour* n = neighbours->slot(i);
    if (n->state != Neighbour::State::pending) continue;
    if (now_ms - n->created_ms >= Neighbours::kGiveUpMs) {
      for (uint8_t q = 0; q < n->queued; ++q) drop(n->queue[q], n->port, Drop::neighbour_queue);
      n->queued = 0;
      neighbours->remove(n);
      continue;
    }
    const PortInfo* port = snapshot ? snapshot->port(n->port) : nullptr;
    if (port && now_ms - n->requested_ms >= Neighbours::kRetryMs) {
      n->requested_ms = now_ms;
      ask_neighbour(*this, *port, n->address);
    }
  }
}

}  // namespace l4lb
