// The phases of phases.h.
#include "phases.h"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_tcp.h>

#include "counters.h"
#include "sessions.h"

namespace bench {

using namespace l4lb;

namespace {

constexpr unsigned kBurst = Worker::kBurst;
constexpr uint8_t kDataFlags = RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG;
constexpr unsigned kClockSamples = 10000;

// Cycles between two rte_rdtsc_precise() with nothing in between: the median, since a
// hypervisor that deschedules the CPU once would make an average worthless.
uint64_t measure_clock_cost() {
  std::vector<uint64_t> samples(kClockSamples);
  for (uint64_t& sample : samples) {
    const uint64_t start = rte_rdtsc_precise();
    sample = rte_rdtsc_precise() - start;
  }
  std::nth_element(samples.begin(), samples.begin() + kClockSamples / 2, samples.end());
  return samples[kClockSamples / 2];
}

}  // namespace

WorkerBench::WorkerBench(Network& network, const Plan& plan, Worker& worker, rte_mempool* pool, uint32_t sessions,
                         double seconds)
    : network_(network),
      worker_(worker),
      pool_(pool),
      queue_(worker.id),
      frames_(network, plan),
      flows_(client_flows(plan, worker.id, network.workers, sessions)),
      order_(random_order(sessions, 0x5eed0000u + worker.id)),
      phase_cycles_(uint64_t(seconds * double(rte_get_tsc_hz()))),
      clock_cost_(measure_clock_cost()) {}

// Writes `count` frames with write(mbuf, i) and puts them on `ring` for the port to receive.
template <class Write>
unsigned WorkerBench::inject(rte_ring* ring, unsigned count, Write&& write) {
  rte_mbuf* frames[kBurst];
  if (count == 0) return 0;
  if (rte_pktmbuf_alloc_bulk(pool_, frames, count) != 0) throw std::runtime_error("the packet pool ran dry");
  for (unsigned i = 0; i < count; ++i)
    if (!write(frames[i], i)) throw std::runtime_error("a frame does not fit an mbuf");
  if (rte_ring_enqueue_bulk(ring, reinterpret_cast<void**>(frames), count, nullptr) != count)
    throw std::runtime_error("a receive ring is full");
  return count;
}

// Takes every frame the port sent from `ring`, shows each to look(), frees them.
template <class Look>
unsigned WorkerBench::drain(rte_ring* ring, Look&& look) {
  rte_mbuf* frames[kBurst];
  unsigned total = 0, n;
  while ((n = rte_ring_dequeue_burst(ring, reinterpret_cast<void**>(frames), kBurst, nullptr)) > 0) {
    for (unsigned i = 0; i < n; ++i) look(frames[i]);
    rte_pktmbuf_free_bulk(frames, n);
    total += n;
  }
  return total;
}

unsigned WorkerBench::drain_all() {
  auto ignore = [](rte_mbuf*) {};
  return drain(network_.client.tx[queue_], ignore) + drain(network_.server.tx[queue_], ignore);
}

// rdtsc_precise fences first, so the stores of the work measured have completed. Reading the
// TSC twice costs cycles of its own (about 70 under KVM): the average is taken off each section.
uint64_t WorkerBench::elapsed_since(uint64_t start) const {
  const uint64_t cycles = rte_rdtsc_precise() - start;
  return cycles > clock_cost_ ? cycles - clock_cost_ : 0;
}

uint64_t WorkerBench::measured_poll() {
  const uint64_t start = rte_rdtsc_precise();
  worker_.poll_once();
  return elapsed_since(start);
}

uint64_t WorkerBench::drops() const {
  uint64_t total = 0;
  for (const PortCounters& port : worker_.counters->ports)
    for (uint64_t d : port.drops) total += d;
  return total;
}

void WorkerBench::check_drops(const char* phase, uint64_t before) {
  const uint64_t dropped = drops() - before;
  if (!dropped) return;
  std::string reasons;
  for (int r = 0; r < static_cast<int>(Drop::count_); ++r) {
    uint64_t n = 0;
    for (const PortCounters& port : worker_.counters->ports) n += port.drops[r];
    if (n) reasons += std::string(reasons.empty() ? "" : ", ") + drop_reason_name(Drop(r)) + " " + std::to_string(n);
  }
  problems_.push_back(std::string(phase) + ": " + std::to_string(dropped) + " frames dropped (all phases so far: " +
                      reasons + ")");
}

uint64_t WorkerBench::deadline() const { return rte_get_tsc_cycles() + phase_cycles_; }

bool WorkerBench::out_of_time(uint64_t deadline, const char* phase) {
  if (rte_get_tsc_cycles() < deadline) return false;
  problems_.push_back(std::string(phase) + ": stopped at the time limit");
  return true;
}

Measured WorkerBench::open_sessions() {
  Measured m;
  const uint64_t dropped = drops(), end = deadline();
  const uint32_t before = worker_.sessions->size();
  uint64_t learnt = 0;
  for (uint32_t next = 0; next < flows_.size() && !out_of_time(end, "new sessions");) {
    const unsigned count = unsigned(std::min<size_t>(kBurst, flows_.size() - next));
    inject(network_.client.rx[queue_], count, [&](rte_mbuf* frame, unsigned i) {
      return frames_.from_client(frame, flows_[next + i], RTE_TCP_SYN_FLAG, next + i);
    });
    next += count;
    m.cycles += measured_poll();
    drain(network_.server.tx[queue_], [&](rte_mbuf* frame) { learnt += frames_.learn_local_end(frame, flows_); });
    drain(network_.client.tx[queue_], [](rte_mbuf*) {});
  }
  m.items = worker_.sessions->size() - before;
  if (learnt != m.items) problems_.push_back("new sessions: " + std::to_string(learnt) + " SYNs reached servers for " +
                                            std::to_string(m.items) + " sessions");
  check_drops("new sessions", dropped);
  return m;
}

void WorkerBench::complete_handshakes() {
  const uint64_t dropped = drops(), end = deadline();
  for (int step = 0; step < 2; ++step) {
    const bool answer = step == 0;   // the servers' SYN+ACKs, then the clients' ACKs
    for (uint32_t next = 0; next < flows_.size() && !out_of_time(end, "handshakes");) {
      const unsigned count = unsigned(std::min<size_t>(kBurst, flows_.size() - next));
      if (answer)
        inject(network_.server.rx[queue_], count, [&](rte_mbuf* frame, unsigned i) {
          return frames_.from_server(frame, flows_[next + i], RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, 0);
        });
      else
        inject(network_.client.rx[queue_], count, [&](rte_mbuf* frame, unsigned i) {
          return frames_.from_client(frame, flows_[next + i], RTE_TCP_ACK_FLAG, next + i + 1);
        });
      next += count;
      worker_.poll_once();
      drain_all();
    }
  }
  check_drops("handshakes", dropped);
}

// The client-side burst and the server-side burst take the next flows of the random order in
// turn, so a poll sees 2 × count different flows, as a busy link would bring. The sequence
// number names the flow, so what comes out can be checked against it.
unsigned WorkerBench::inject_established(size_t& next, unsigned count) {
  auto flow = [&](unsigned i) { return order_[(next + i) % order_.size()]; };
  unsigned written = inject(network_.client.rx[queue_], count, [&](rte_mbuf* frame, unsigned i) {
    return frames_.from_client(frame, flows_[flow(i)], kDataFlags, flow(i));
  });
  next = (next + count) % order_.size();
  written += inject(network_.server.rx[queue_], count, [&](rte_mbuf* frame, unsigned i) {
    return frames_.from_server(frame, flows_[flow(i)], kDataFlags, flow(i));
  });
  next = (next + count) % order_.size();
  return written;
}

Measured WorkerBench::forward_established(uint64_t packets) {
  Measured m;
  const uint64_t dropped = drops(), end = deadline();
  uint64_t sent = 0, wrong = 0;
  auto to_server = [&](rte_mbuf* frame) { wrong += !frames_.translated_right(frame, flows_, true); };
  auto to_client = [&](rte_mbuf* frame) { wrong += !frames_.translated_right(frame, flows_, false); };
  for (size_t next = 0; m.items < packets && !out_of_time(end, "established");) {
    const unsigned count = unsigned(std::min<uint64_t>(kBurst, (packets - m.items + 1) / 2));
    m.items += inject_established(next, count);
    m.cycles += measured_poll();
    sent += drain(network_.server.tx[queue_], to_server) + drain(network_.client.tx[queue_], to_client);
  }
  if (sent != m.items)
    problems_.push_back("established: " + std::to_string(sent) + " frames out for " + std::to_string(m.items) + " in");
  if (wrong) problems_.push_back("established: " + std::to_string(wrong) + " frames translated wrong");
  check_drops("established", dropped);
  return m;
}

// The baseline: the same frames on the same rings, received and sent back out with nothing in
// between, as a NIC-to-NIC forwarder that looks at no header would.
Measured WorkerBench::raw_loop(uint64_t packets) {
  Measured m;
  const uint64_t end = deadline();
  const uint16_t client = network_.client.port, server = network_.server.port;
  rte_mbuf* frames[kBurst];
  uint64_t unsent = 0;
  for (size_t next = 0; m.items < packets && !out_of_time(end, "raw loop");) {
    const unsigned count = unsigned(std::min<uint64_t>(kBurst, (packets - m.items + 1) / 2));
    m.items += inject_established(next, count);
    const uint64_t start = rte_rdtsc_precise();
    uint16_t n = rte_eth_rx_burst(client, queue_, frames, kBurst);
    uint16_t sent = rte_eth_tx_burst(server, queue_, frames, n);
    unsent += n - sent;
    rte_pktmbuf_free_bulk(frames + sent, n - sent);
    n = rte_eth_rx_burst(server, queue_, frames, kBurst);
    sent = rte_eth_tx_burst(client, queue_, frames, n);
    unsent += n - sent;
    rte_pktmbuf_free_bulk(frames + sent, n - sent);
    m.cycles += elapsed_since(start);
    drain_all();
  }
  if (unsent) problems_.push_back("raw loop: " + std::to_string(unsent) + " frames not taken by a transmit ring");
  return m;
}

// The median poll, as `polls` of them: an empty poll is short enough that one descheduling of
// the vCPU would outweigh all the others in a sum.
Measured WorkerBench::empty_polls(unsigned polls) {
  std::vector<uint64_t> samples(polls);
  for (uint64_t& sample : samples) sample = measured_poll();
  std::nth_element(samples.begin(), samples.begin() + polls / 2, samples.end());
  return Measured{polls, samples[polls / 2] * polls};
}

uint32_t WorkerBench::established() const {
  uint32_t total = 0;
  for (const auto& service : network_.snapshot->services)
    for (const Backend& backend : service->backends) total += worker_.active[backend.id];
  return total;
}

}  // namespace bench
