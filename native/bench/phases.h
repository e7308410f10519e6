// The measured phases of one worker and one plan (plan.h), run on the worker's own lcore:
//   open_sessions         N SYNs of distinct flows: new sessions per second
//   complete_handshakes   SYN+ACK and ACK of every flow, unmeasured: N established sessions
//   forward_established   data segments of random established flows, both directions
//   raw_loop              the same frames through rte_eth_rx_burst → rte_eth_tx_burst alone
//   empty_polls           poll_once() with nothing received
// Only the worker is measured (the TSC around poll_once(), or around the raw loop's two
// bursts); writing frames and draining what was sent happen outside the measured sections.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <rte_mempool.h>

#include "network.h"
#include "traffic.h"
#include "worker.h"

namespace bench {

// Work done inside measured sections.
struct Measured {
  uint64_t items = 0;    // packets, or sessions opened
  uint64_t cycles = 0;
  double per_second(uint64_t tsc_hz) const { return cycles ? double(items) * double(tsc_hz) / double(cycles) : 0; }
  double cycles_per_item() const { return items ? double(cycles) / double(items) : 0; }
};

class WorkerBench {
 public:
  // `seconds` bounds each phase; a phase that runs out says so in problems().
  WorkerBench(Network& network, const Plan& plan, l4lb::Worker& worker, rte_mempool* pool, uint32_t sessions,
              double seconds);

  Measured open_sessions();
  void complete_handshakes();
  Measured forward_established(uint64_t packets);
  Measured raw_loop(uint64_t packets);
  // poll_once() with nothing to receive: the per-poll cost every burst pays besides its frames
  // (the median of `polls`).
  Measured empty_polls(unsigned polls);

  uint32_t established() const;                   // sessions in ESTABLISHED now
  const std::vector<std::string>& problems() const { return problems_; }
  uint64_t clock_cost() const { return clock_cost_; }   // taken off every measured section

 private:
  template <class Write>
  unsigned inject(rte_ring* ring, unsigned count, Write&& write);
  template <class Look>
  unsigned drain(rte_ring* ring, Look&& look);
  unsigned drain_all();
  uint64_t elapsed_since(uint64_t start) const;   // of a measured section, less the clock's own cost
  uint64_t measured_poll();                       // cycles of one poll_once()
  uint64_t drops() const;
  void check_drops(const char* phase, uint64_t before);
  bool out_of_time(uint64_t deadline, const char* phase);
  uint64_t deadline() const;
  // Writes one burst of established traffic: `count` frames from clients and as many from
  // servers, of the flows at order[next...]. Returns frames written.
  unsigned inject_established(size_t& next, unsigned count);

  Network& network_;
  l4lb::Worker& worker_;
  rte_mempool* pool_;
  uint16_t queue_;
  Frames frames_;
  std::vector<Flow> flows_;
  std::vector<uint32_t> order_;
  uint64_t phase_cycles_;
  uint64_t clock_cost_;
  std::vector<std::string> problems_;
};

}  // namespace bench
