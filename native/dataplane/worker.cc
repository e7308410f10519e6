// The worker loop. One poll reads like a page of prose:
//   pick up a new snapshot → serve a control request → announce → for every port: rx burst,
//   classify, process → frames from the kernel taps → frames other workers passed us →
//   timers (session expiry, ARP retries) → transmit everything buffered.
// run() repeats poll_once(), times the busy polls (counters.h: cycles_busy, burst) and, when
// idle in adaptive mode, sleeps with exponential back-off (1 µs doubling to 1 ms) so a small
// test machine stays usable; the control thread's doorbell (a futex) cuts a sleep short.
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <ctime>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_prefetch.h>

#include "flow.h"
#include "neighbour.h"
#include "next_hops.h"
#include "packet.h"
#include "rate_limit.h"
#include "sessions.h"
#include "sync_events.h"
#include "worker.h"

namespace l4lb {

namespace {

constexpr uint32_t kSpinPolls = 64;        // empty polls before the first sleep
constexpr uint32_t kMaxSleepUs = 1000;
constexpr uint32_t kExpiryEveryMs = 1;
constexpr unsigned kPeerEventsPerPoll = 256;   // bounds the pause a sync burst adds to a poll

// Sleeps `us`, or less when `bell` moves past `seen` (also at once if it already has).
void doze(std::atomic<uint32_t>* bell, uint32_t seen, uint32_t us) {
  if (!bell) return rte_delay_us_sleep(us);
  timespec timeout{0, long(us) * 1000};
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(bell), FUTEX_WAIT_PRIVATE, seen, &timeout, nullptr, 0);
}

// Frames are read as bytes, not through rte_ether_hdr (2-byte aligned): a frame may start at
// an odd address (a buffer handed over at any offset), and these loads cost the same.
bool is_for_port(const uint8_t* eth, const PortInfo& port) {
  return (eth[0] & 0x01) || std::memcmp(eth, port.mac.bytes, 6) == 0;   // group bit, or ours
}

// Hands a frame for the NIC's kernel side to its tap; without one, nobody serves it.
void to_kernel(Worker& w, rte_mbuf* m, const PortInfo& port, uint16_t in_port) {
  if (port.tap == kNoPort) return w.drop(m, in_port, Drop::no_service);
  ++w.counters->ports[in_port].to_kernel;
  w.send_raw(m, port.tap);
}

// Classifies one frame received on `in_port` (described by `port`, null when unknown; or passed
// by another worker: from_wire false) and handles it, unless it is IP for the data path: then
// it returns true and the caller processes it with the rest of its burst. Cost: a few loads of
// the Ethernet and IP headers, already prefetched. Always inlined: as a call, it cost ~20 of
// its ~40 instructions per frame.
__attribute__((always_inline)) inline bool is_data_path_ip(Worker& w, rte_mbuf* m, const PortInfo* port,
                                                           uint16_t in_port, bool from_wire) {
  if (!port || rte_pktmbuf_data_len(m) < kEtherLength) {
    w.drop(m, in_port, Drop::malformed);
    return false;
  }
  auto* eth = header_at<uint8_t>(m, 0);
  rte_be16_t ether_type;
  std::memcpy(&ether_type, eth + 12, sizeof ether_type);
  switch (ether_type) {
    case RTE_BE16(RTE_ETHER_TYPE_IPV4):
      if (!from_wire) return true;
      if (!is_for_port(eth, *port)) {   // flooded to us
        w.drop(m, in_port, Drop::no_service);
        return false;
      }
      if (port->probe.is_v4() && rte_pktmbuf_data_len(m) >= kEtherLength + sizeof(rte_ipv4_hdr) &&
          header_at<rte_ipv4_hdr>(m, kEtherLength)->dst_addr == port->probe.v4_be()) {
        to_kernel(w, m, *port, in_port);
        return false;
      }
      if (w.snapshot->backup) {   // the active node forwards; the probe address above still works
        w.drop(m, in_port, Drop::backup);
        return false;
      }
      return true;
    case RTE_BE16(RTE_ETHER_TYPE_IPV6):   // neighbour discovery included: the backup learns, never answers
      if (!from_wire) return true;
      if (!is_for_port(eth, *port)) {
        w.drop(m, in_port, Drop::no_service);
        return false;
      }
      // The IPv6 probe address, on a backup too: one 16-byte compare per frame, as for IPv4 above
      // (the unset test runs on a match only, a frame to :: when there is no probe6).
      // Solicitations for it come to a multicast group: nd.cc passes them on.
      if (rte_pktmbuf_data_len(m) >= kEtherLength + sizeof(rte_ipv6_hdr) &&
          Address::v6(eth + kEtherLength + offsetof(rte_ipv6_hdr, dst_addr)) == port->probe6 &&
          !port->probe6.is_unset()) {
        to_kernel(w, m, *port, in_port);
        return false;
      }
      return true;
    case RTE_BE16(RTE_ETHER_TYPE_ARP):
      w.handle_arp(m, in_port, from_wire);
      return false;
    default:
      w.drop(m, in_port, Drop::not_ip);   // VLAN-tagged frames included
      return false;
  }
}

// Receives one burst from a NIC queue: prefetches every frame's headers, classifies the
// frames (ARP and the exception path are handled at once) and processes the IP ones as one
// burst, which lets their session lookups overlap (process_ip_burst).
unsigned receive(Worker& w, uint16_t port) {
  rte_mbuf* frames[Worker::kBurst];
  uint16_t n = rte_eth_rx_burst(port, w.id, frames, Worker::kBurst);
  if (n == 0) return 0;
  PortCounters& c = w.counters->ports[port];
  c.rx_packets += n;
  for (uint16_t i = 0; i < n; ++i) rte_prefetch0(rte_pktmbuf_mtod(frames[i], void*));
  const PortInfo* info = w.snapshot->port(port);
  rte_mbuf* ip[Worker::kBurst];
  uint16_t count = 0;
  for (uint16_t i = 0; i < n; ++i) {
    c.rx_bytes += rte_pktmbuf_pkt_len(frames[i]);
    frames[i]->port = port;   // not every driver sets it (net_ring does not); redirect() needs it
    if (is_data_path_ip(w, frames[i], info, port, true)) ip[count++] = frames[i];
  }
  process_ip_burst(w, ip, count, port, true);
  return n;
}

// Frames the kernel sent through a NIC's tap leave by the NIC unchanged.
unsigned from_kernel(Worker& w, const PortInfo& port) {
  rte_mbuf* frames[Worker::kBurst];
  uint16_t n = rte_eth_rx_burst(port.tap, w.id, frames, Worker::kBurst);
  w.counters->ports[port.port].from_kernel += n;
  for (uint16_t i = 0; i < n; ++i) w.send_raw(frames[i], port.port);
  return n;
}

unsigned drain_inbox(Worker& w) {
  if (!w.inbox) return 0;
  rte_mbuf* frames[Worker::kBurst];
  unsigned n = rte_ring_dequeue_burst(w.inbox, reinterpret_cast<void**>(frames), Worker::kBurst, nullptr);
  w.counters->redirected_in += n;
  for (unsigned i = 0; i < n; ++i)
    if (is_data_path_ip(w, frames[i], w.snapshot->port(frames[i]->port), frames[i]->port, false))
      process_ip_burst(w, &frames[i], 1, frames[i]->port, false);
  return n;
}

void pick_up_snapshot(Worker& w) {
  if (!w.published) return;
  const Snapshot* next = w.published->load(std::memory_order_acquire);
  if (next == w.snapshot || !next) return;
  const Snapshot* previous = w.snapshot;
  w.snapshot = next;
  w.neighbours->changed();   // resolved hops hold the old snapshot's port MACs
  on_snapshot(w, previous);
  w.seen_generation.store(next->generation, std::memory_order_release);
}

}  // namespace

Worker::Worker()
    : neighbours(make_neighbours()),
      next_hops(std::make_unique<NextHops>()),
      counters(std::make_unique<WorkerCounters>()),
      cursors(kMaxServices),
      active(kMaxBackends, 0),
      client_rates(std::make_unique<ClientRates>()) {}

// Frees the frames still held: unsent in the tx buffers, waiting for a neighbour.
Worker::~Worker() {
  for (TxBuffer& buffer : tx) {
    rte_pktmbuf_free_bulk(buffer.frames, buffer.count);
    buffer.count = 0;
  }
  for (uint32_t i = 0; neighbours && i < Neighbours::kSlots; ++i) {
    Neighbour* n = neighbours->slot(i);
    rte_pktmbuf_free_bulk(n->queue, n->queued);
    n->queued = 0;
  }
}

unsigned Worker::poll_once() {
  if (tsc_hz) now_ms = rte_rdtsc() / (tsc_hz / 1000);   // tests leave tsc_hz 0 and set now_ms
  pick_up_snapshot(*this);
  if (WorkerRequest* r = request.load(std::memory_order_acquire)) {
    serve_request(*this, *r);
    request.store(nullptr, std::memory_order_relaxed);
    r->done.store(true, std::memory_order_release);
  }
  if (!snapshot) return 0;
  // Worker 0 alone announces: one gratuitous ARP per address is what the network needs. The
  // plain load first spares every poll a locked exchange (~20 cycles).
  if (announce.load(std::memory_order_relaxed) && announce.exchange(false) && id == 0) send_gratuitous_arp();
  unsigned handled = 0;
  for (const PortInfo& port : snapshot->ports) {
    if (port.port == kNoPort) continue;
    handled += receive(*this, port.port);
    if (port.tap != kNoPort) handled += from_kernel(*this, port);
  }
  handled += drain_inbox(*this);
  handled += install_peer_sessions(*this, kPeerEventsPerPoll);
  if (now_ms >= next_expiry_ms) {
    next_expiry_ms = now_ms + kExpiryEveryMs;
    expire_sessions(*this);
  }
  if (now_ms >= next_neighbour_ms) {
    next_neighbour_ms = now_ms + Neighbours::kRetryMs;
    neighbour_timers();
  }
  flush_tx();
  return handled;
}

void Worker::run() {
  const CyclesToNs to_ns(tsc_hz);
  while (!stop.load(std::memory_order_relaxed)) {
    // Read before the poll looks for a snapshot or a request: a ring after it ends the sleep.
    // Cost: one load of a line written only when the control thread rings.
    uint32_t bell = doorbell ? doorbell->load(std::memory_order_acquire) : 0;
    uint64_t start = rte_rdtsc();
    unsigned handled = poll_once();
    ++counters->loops;
    if (handled) {
      uint64_t cycles = rte_rdtsc() - start;
      ++counters->busy_loops;
      counters->cycles_busy += cycles;
      // One multiply, one count-leading-zeros, two adds, no branch but a clamp (burst_histogram.h).
      record_burst(counters->burst, to_ns(cycles));
      idle_polls = 0;
      sleep_us = 0;
      continue;
    }
    if (idle == IdleMode::busy || ++idle_polls < kSpinPolls) continue;
    sleep_us = sleep_us == 0 ? 1 : std::min(sleep_us * 2, kMaxSleepUs);
    doze(doorbell, bell, sleep_us);
  }
  flush_tx();
}

// Cost: one ring enqueue (a CAS on the owner's producer head).
void Worker::redirect(rte_mbuf* m, uint16_t owner) {
  Worker* target = all && owner < all->size() ? (*all)[owner] : nullptr;
  if (!target || !target->inbox || rte_ring_enqueue(target->inbox, m) != 0) return drop(m, m->port, Drop::redirect_full);
  ++counters->redirected_out;
}

void Worker::drop(rte_mbuf* m, uint16_t port, Drop why) {
  if (port < kMaxPorts) ++counters->ports[port].drops[static_cast<int>(why)];
  rte_pktmbuf_free(m);
}

}  // namespace l4lb
