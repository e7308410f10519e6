// Cost of session sync in the data plane; see sync_costs.h.
#include "sync_costs.h"

#include <netinet/in.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <stdexcept>

#include <rte_cycles.h>
#include <rte_ring_elem.h>

#include "sessions.h"
#include "sync_events.h"
#include "sync_record.h"

namespace bench {

namespace {

using l4lb::SyncEvent;
using l4lb::SyncKind;

constexpr unsigned kBurst = 256;
constexpr unsigned kRingSize = 4096;

// Peer records of established sessions of the bench's IPv4 service, all owned by worker 0:
// distinct clients, local ports from worker 0's slice of each local address in turn.
std::vector<SyncEvent> peer_events(const Network& net, uint32_t count) {
  const Plan& plan = ipv4_plan();
  const uint32_t first_port = (kLocalPortMin + net.workers - 1) / net.workers * net.workers;
  const uint32_t per_address = (uint32_t(kLocalPortMax) - first_port) / net.workers + 1;
  if (count > per_address * net.local_addresses) throw std::runtime_error("too few local ports for the sync bench");
  std::vector<SyncEvent> events(count);
  for (uint32_t i = 0; i < count; ++i) {
    SyncEvent& e = events[i];
    e.kind = SyncKind::new_session;
    e.protocol = IPPROTO_TCP;
    e.state = static_cast<uint8_t>(l4lb::TcpState::established);
    e.client_address = nth(plan.client_base, i % kClientAddresses);
    e.client_port = uint16_t(10000 + i / kClientAddresses);
    e.virtual_address = plan.vip;
    e.virtual_port = plan.vip_port;
    e.local_address = nth(plan.first_local, i / per_address);
    e.local_port = uint16_t(first_port + (i % per_address) * net.workers);
    e.server_address = nth(plan.first_server, i % kServers);
    e.server_port = kServerPort;
    e.timeout_s = 90;
    e.remaining_ms = 90'000;
  }
  return events;
}

rte_ring* event_ring(const char* name) {
  rte_ring* ring = rte_ring_create_elem(name, sizeof(SyncEvent), kRingSize, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  if (!ring) throw std::runtime_error(std::string("cannot create ring ") + name);
  return ring;
}

void drain(rte_ring* ring) {
  SyncEvent sink[kBurst];
  while (rte_ring_sc_dequeue_burst_elem(ring, sink, sizeof(SyncEvent), kBurst, nullptr) > 0) {
  }
}

// Mean cycles per item of `step(first, count)` over every burst of `items`.
template <class Step>
double per_item(uint32_t items, Step&& step, const std::function<void()>& between = [] {}) {
  uint64_t cycles = 0;
  for (uint32_t first = 0; first < items; first += kBurst) {
    uint32_t count = std::min<uint32_t>(kBurst, items - first);
    between();
    uint64_t start = rte_rdtsc_precise();
    step(first, count);
    cycles += rte_rdtsc_precise() - start;
  }
  return items ? double(cycles) / items : 0;
}

}  // namespace

std::vector<SyncCost> measure_sync(Network& net, rte_mempool* pool, uint32_t sessions) {
  std::unique_ptr<l4lb::Worker> owned = make_worker(net, 0, sessions + sessions / 4 + kBurst, pool, "_sync");
  l4lb::Worker& w = *owned;
  w.sync_in = event_ring("bench_sync_in");
  w.sync_out = event_ring("bench_sync_out");
  std::vector<SyncEvent> events = peer_events(net, sessions);
  std::vector<uint8_t> wire(size_t(sessions) * l4lb::kSyncRecordSize);
  std::vector<SyncCost> costs;

  costs.push_back({"encode a wire record (control thread)", per_item(sessions, [&](uint32_t first, uint32_t n) {
                     for (uint32_t i = first; i < first + n; ++i)
                       l4lb::encode_sync_record(events[i], 7, i, &wire[size_t(i) * l4lb::kSyncRecordSize]);
                   })});
  costs.push_back({"decode and check a wire record (control thread)", per_item(sessions, [&](uint32_t first, uint32_t n) {
                     l4lb::SyncDrop why;
                     for (uint32_t i = first; i < first + n; ++i)
                       l4lb::decode_sync_record(&wire[size_t(i) * l4lb::kSyncRecordSize], &events[i], &why);
                   })});
  uint32_t next = 0;
  costs.push_back({"install a peer session (worker; table filling up)", per_item(
                       sessions, [&](uint32_t, uint32_t) { l4lb::install_peer_sessions(w, kBurst); },
                       [&] {
                         unsigned n = std::min<uint32_t>(kBurst, sessions - next);
                         rte_ring_sp_enqueue_bulk_elem(w.sync_in, &events[next], sizeof(SyncEvent), n, nullptr);
                         next += n;
                       })});
  if (w.sessions->size() != sessions)
    throw std::runtime_error("sync bench installed " + std::to_string(w.sessions->size()) + " of " + std::to_string(sessions));

  std::vector<uint32_t> indexes;
  w.sessions->for_each([&](uint32_t i) { indexes.push_back(i); });
  costs.push_back({"bare 64-byte ring enqueue (floor of the next line)", per_item(
                       sessions, [&](uint32_t first, uint32_t n) {
                         for (uint32_t i = first; i < first + n; ++i)
                           rte_ring_sp_enqueue_elem(w.sync_out, &events[i], sizeof(SyncEvent));
                       },
                       [&] { drain(w.sync_out); })});
  costs.push_back({"write a sync event (worker)", per_item(
                       sessions, [&](uint32_t first, uint32_t n) {
                         for (uint32_t i = first; i < first + n; ++i)
                           l4lb::write_sync_event(w, w.sessions->at(indexes[i]), SyncKind::refresh);
                       },
                       [&] { drain(w.sync_out); })});
  drain(w.sync_out);
  rte_ring_free(w.sync_in);
  rte_ring_free(w.sync_out);
  rte_ring_free(w.inbox);
  return costs;
}

void print_sync(const std::vector<SyncCost>& costs, uint64_t tsc_hz) {
  std::printf("\nsession sync, cycles per record (mean over bursts of %u, %.2f GHz TSC; per-core rate)\n", kBurst,
              double(tsc_hz) / 1e9);
  for (const SyncCost& c : costs)
    std::printf("  %-52s %8.1f  %6.1f M/s\n", c.name.c_str(), c.cycles, c.cycles ? double(tsc_hz) / c.cycles / 1e6 : 0);
}

}  // namespace bench
