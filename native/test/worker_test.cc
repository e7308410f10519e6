// The worker loop on a thread of its own, as dataplane.cc runs it: snapshot pick-up with
// seen_generation, control requests, forwarding, stop.
#include <chrono>
#include <thread>

#include <rte_cycles.h>

#include "check.h"
#include "lab.h"
#include "sessions.h"

using namespace l4lb;
using namespace lab;

namespace {

template <class Done>
bool wait_for(Done done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return true;
}

}  // namespace

TEST(worker_runs_on_its_own_thread) {
  Lab lab;
  Worker& w = lab.worker();
  w.tsc_hz = rte_get_tsc_hz();
  w.now_ms = rte_rdtsc() / (w.tsc_hz / 1000);   // the real clock from here on
  lab.seed_neighbours();                       // confirmed on that clock
  std::thread loop([&] { w.run(); });

  Settings next;
  next.generation = 2;
  std::unique_ptr<Snapshot> snapshot2 = snapshot(next);
  lab.published.store(snapshot2.get(), std::memory_order_release);
  CHECK(wait_for([&] { return w.seen_generation.load(std::memory_order_acquire) == 2; }));

  client_port().inject(packets::tcp(from_client(55000), kSyn, 1, 0));
  std::vector<rte_mbuf*> out;
  CHECK(wait_for([&] {
    for (rte_mbuf* m : server_port().sent()) out.push_back(m);
    return !out.empty();
  }));
  release(out);

  WorkerRequest list;
  list.limit = 10;
  w.request.store(&list, std::memory_order_release);
  CHECK(wait_for([&] { return list.done.load(std::memory_order_acquire); }));
  CHECK_EQ(list.matched, size_t(1));

  w.stop.store(true);
  loop.join();
  CHECK(w.counters->loops > 0);
  CHECK(w.counters->busy_loops > 0);
  lab.snapshots.push_back(std::move(snapshot2));
}
