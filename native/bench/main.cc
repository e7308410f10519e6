// native-bench: how fast one data-plane worker forwards, on net_ring ports and without a NIC.
//
//   native-bench [--sessions N] [--packets N] [--workers N] [--quick] [--json FILE] [--check] [--no-huge]
//
// Each worker runs on its own lcore with its own queue pair and flows, all at once (they share
// caches and memory bandwidth as in production), in phases separated by barriers:
// new sessions → handshakes → established forwarding → the raw rx→tx loop, for IPv4; then the
// same sessions and forwarding again for IPv6, NAT64 and behind an allow list (plan.h), each on a fresh worker of the
// same settings on the same lcore, so every plan starts from an empty table. phases.h says what
// is measured; report.h what is printed. Then, on the main lcore alone, what client address
// passing adds per session and per packet (client_address_costs.h), and what session sync
// costs per record (sync_costs.h), and what timing each busy poll into its histogram costs
// (burst_cost.h).
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "burst_cost.h"
#include "client_address_costs.h"
#include "memory_probe.h"
#include "network.h"
#include "phases.h"
#include "report.h"
#include "sync_costs.h"
#include "sessions.h"

namespace bench {
namespace {

constexpr unsigned kPoolBuffers = 8191;        // frames in flight: a few bursts per worker
constexpr unsigned kPoolCache = 256;
constexpr unsigned kMinFreeHugepages = 64;     // below this, run without hugepages
constexpr double kSecondsPerPhase = 120;       // bound on every phase, however large N
constexpr double kBarrierSeconds = 600;
constexpr unsigned kEmptyPolls = 10000;
constexpr unsigned kClientAddressRepeats = 100000;   // per step of client address passing
constexpr uint32_t kSyncSessions = 200000;           // peer sessions installed by the sync costs

struct Options {
  uint32_t sessions = 1000000;
  uint64_t packets = 10000000;
  uint16_t workers = 1;
  std::string json;
  bool check = false;
  bool no_huge = false;
};

const char* const kUsage =
    "usage: native-bench [--sessions N] [--packets N] [--workers N] [--quick] [--json FILE] [--check] [--no-huge]\n"
    "  --sessions N  live sessions per worker and plan (IPv4, IPv6, NAT64, IPv4 allow-list; default 1000000)\n"
    "  --packets N   packets per worker in each plan's established phase and in the raw loop (default 10000000)\n"
    "  --workers N   workers, one lcore each (default 1)\n"
    "  --quick       65536 sessions and 1000000 packets: done in seconds\n"
    "  --json FILE   also write the results as JSON\n"
    "  --check       exit with status 2 when a target is missed\n"
    "  --no-huge     ordinary memory even when hugepages are free (valgrind cannot run the EAL on them)\n";

uint64_t number(const char* flag, const char* text, uint64_t max) {
  char* end = nullptr;
  unsigned long long value = text ? std::strtoull(text, &end, 10) : 0;
  if (!text || *end || value == 0 || value > max)
    throw std::invalid_argument(std::string(flag) + " needs a number from 1 to " + std::to_string(max));
  return value;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    if (arg == "--sessions") o.sessions = uint32_t(number("--sessions", value, 1u << 24)), ++i;
    else if (arg == "--packets") o.packets = number("--packets", value, uint64_t(1) << 40), ++i;
    else if (arg == "--workers") o.workers = uint16_t(number("--workers", value, RTE_MAX_LCORE)), ++i;
    else if (arg == "--quick") o.sessions = 65536, o.packets = 1000000;
    else if (arg == "--json" && value) o.json = value, ++i;
    else if (arg == "--check") o.check = true;
    else if (arg == "--no-huge") o.no_huge = true;
    else throw std::invalid_argument(arg == "--help" ? "" : "unknown or incomplete argument " + arg);
  }
  return o;
}

unsigned free_hugepages() {
  std::ifstream file("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages");
  unsigned pages = 0;
  return file >> pages ? pages : 0;
}

// Starts the EAL on lcores 0..workers-1; true when it runs on hugepages.
bool start_eal(uint16_t workers, bool no_huge) {
  if (workers > sysconf(_SC_NPROCESSORS_ONLN))
    throw std::runtime_error("more workers than CPUs: each worker needs a CPU of its own to be measured");
  const bool huge = !no_huge && free_hugepages() >= kMinFreeHugepages;
  std::vector<std::string> args = {"native-bench", "-l", workers == 1 ? "0" : "0-" + std::to_string(workers - 1),
                                   "--file-prefix", "l4lb-bench-" + std::to_string(getpid()), "--no-pci", "--no-telemetry",
                                   "--log-level", "notice"};
  if (huge) args.push_back("--in-memory");
  else args.insert(args.end(), {"--no-huge", "--no-shconf", "-m", "512"});
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  if (rte_eal_init(int(argv.size()), argv.data()) < 0) throw std::runtime_error("cannot start the EAL");
  return huge;
}

// Bytes resident in the process: ordinary and transparent huge pages (VmRSS) and hugetlb pages
// (HugetlbPages: the EAL's). Whichever of them a table comes from (the C heap, a mapping of its
// own, rte_malloc), it counts here: the tables write every byte when they are built.
double resident_bytes() {
  std::ifstream status("/proc/self/status");
  double kilobytes = 0;
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0 || line.rfind("HugetlbPages:", 0) == 0) kilobytes += std::atof(line.c_str() + line.find(':') + 1);
  return kilobytes * 1024;
}

// All workers wait for one another between phases; the last to arrive runs `between` first,
// while every other worker is still, so it may measure process-wide memory. A worker that
// fails calls abandon(), so the others stop waiting for it.
class Barrier {
 public:
  explicit Barrier(unsigned parties) : parties_(parties) {}
  void wait(const std::function<void()>& between = {}) {
    const unsigned round = round_.load();
    if (arrived_.fetch_add(1) + 1 == parties_) {
      if (between) between();
      arrived_.store(0);
      round_.store(round + 1);
      return;
    }
    const uint64_t give_up = rte_get_tsc_cycles() + uint64_t(kBarrierSeconds * double(rte_get_tsc_hz()));
    while (round_.load() == round) {
      if (abandoned_.load()) throw std::runtime_error("another worker failed");
      if (rte_get_tsc_cycles() > give_up) throw std::runtime_error("a worker did not reach the barrier");
      rte_pause();
    }
  }
  void abandon() { abandoned_.store(true); }

 private:
  const unsigned parties_;
  std::atomic<unsigned> arrived_{0}, round_{0};
  std::atomic<bool> abandoned_{false};
};

// One lcore's workers and benches, one of each per plan, and what they measured.
struct Lane {
  std::vector<std::unique_ptr<l4lb::Worker>> workers;
  std::vector<std::unique_ptr<WorkerBench>> benches;
  WorkerResult result;
  std::string error;
};

struct Run {
  Options options;
  std::vector<Lane> lanes;
  Barrier barrier;
  std::vector<double> before_opening, opened_bytes;   // per plan, of all lanes together
  explicit Run(const Options& o)
      : options(o), lanes(o.workers), barrier(o.workers), before_opening(plans().size()), opened_bytes(plans().size()) {}
};

// Plan p's phases on one lane: sessions opened and established, then forwarded.
void run_plan(Run& run, Lane& lane, size_t p) {
  WorkerBench& b = *lane.benches[p];
  PlanResult& r = lane.result.plans[p];
  run.barrier.wait([&] { run.before_opening[p] = resident_bytes(); });
  r.new_sessions = b.open_sessions();
  b.complete_handshakes();
  run.barrier.wait([&] { run.opened_bytes[p] = resident_bytes() - run.before_opening[p]; });
  r.sessions = b.established();
  r.established = b.forward_established(run.options.packets);
  run.barrier.wait();
}

int run_lane(void* arg) {
  auto* run = static_cast<Run*>(arg);
  Lane& lane = run->lanes[rte_lcore_index(rte_lcore_id())];
  WorkerResult& r = lane.result;
  try {
    // IPv4 and the baselines first, in the order of the runs before IPv6, so that their figures
    // compare with those; the other plans after.
    run_plan(*run, lane, 0);
    r.raw = lane.benches[0]->raw_loop(run->options.packets);
    r.empty_polls = lane.benches[0]->empty_polls(kEmptyPolls);
    for (size_t p = 1; p < lane.benches.size(); ++p) run_plan(*run, lane, p);
    for (size_t p = 0; p < lane.benches.size(); ++p) {
      PlanResult& plan = r.plans[p];
      const std::vector<std::string>& found = lane.benches[p]->problems();
      plan.problems.insert(plan.problems.end(), found.begin(), found.end());
      if (plan.sessions != run->options.sessions)
        plan.problems.push_back("only " + std::to_string(plan.sessions) + " sessions were established");
    }
  } catch (const std::exception& e) {
    lane.error = e.what();
    run->barrier.abandon();
  }
  return 0;
}

// The worker of `plan` on lane `id`, its memory counted apart: workers are made one at a time,
// so the resident bytes it adds are its own.
void add_plan_worker(Network& network, Lane& lane, uint16_t id, const Plan& plan, const RunInfo& info, rte_mempool* pool) {
  const double before = resident_bytes();
  lane.workers.push_back(make_worker(network, id, info.capacity, pool, plan.key));
  const l4lb::Worker& worker = *lane.workers.back();
  const double worker_bytes = resident_bytes() - before;
  const double table_bytes = double(worker.sessions->bytes_per_session()) * info.capacity;
  PlanResult result;
  result.plan = &plan;
  result.memory.session = (sizeof(l4lb::Session) + sizeof(l4lb::WheelLinks)) * double(info.capacity) / info.sessions;
  result.memory.index = table_bytes / info.sessions - result.memory.session;
  result.memory.worker = (worker_bytes - table_bytes) / info.sessions;
  // Plans compare only on tables alike: with transparent huge pages off, the EAL's hugepages
  // may hold IPv4's table and not the next.
  const std::string backing = worker.sessions->memory_backing(), ipv4_backing = lane.workers[0]->sessions->memory_backing();
  if (backing != ipv4_backing)
    result.problems.push_back("its session table is on " + backing + ", IPv4's on " + ipv4_backing + ": not comparable");
  lane.result.plans.push_back(result);
  network.all_workers[plan.key].push_back(lane.workers.back().get());
  lane.benches.push_back(
      std::make_unique<WorkerBench>(network, plan, *lane.workers.back(), pool, info.sessions, kSecondsPerPhase));
}

int bench_main(const Options& options) {
  RunInfo info;
  info.workers = options.workers;
  info.sessions = info.capacity = options.sessions;
  info.packets = options.packets;
  info.hugepages = start_eal(options.workers, options.no_huge);
  info.tsc_hz = rte_get_tsc_hz();
  rte_mempool* pool =
      rte_pktmbuf_pool_create("bench_packets", kPoolBuffers, kPoolCache, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (!pool) throw std::runtime_error("cannot create the packet pool");

  std::unique_ptr<Network> network = make_network(options.workers, options.sessions, pool);
  Run run(options);
  for (uint16_t i = 0; i < options.workers; ++i) {
    run.lanes[i].result.worker = i;
    for (const Plan& plan : plans()) add_plan_worker(*network, run.lanes[i], i, plan, info, pool);
  }
  info.clock_cost = run.lanes[0].benches[0]->clock_cost();
  info.miss_cost = measure_miss_cost(size_t(run.lanes[0].workers[0]->sessions->bytes_per_session()) * info.capacity);
  if (rte_eal_mp_remote_launch(run_lane, &run, CALL_MAIN) != 0) throw std::runtime_error("cannot launch the workers");
  rte_eal_mp_wait_lcore();

  std::vector<WorkerResult> results;
  for (Lane& lane : run.lanes) {
    if (!lane.error.empty()) throw std::runtime_error("worker " + std::to_string(lane.result.worker) + ": " + lane.error);
    for (size_t p = 0; p < lane.result.plans.size(); ++p)
      lane.result.plans[p].memory.opened = run.opened_bytes[p] / (double(options.sessions) * options.workers);
    results.push_back(lane.result);
  }
  print_report(info, results);
  print_client_address(measure_client_address(pool, kClientAddressRepeats), info.tsc_hz);
  print_sync(measure_sync(*network, pool, std::min(options.sessions, kSyncSessions)), info.tsc_hz);
  print_burst_cost(measure_burst_cost(info.tsc_hz));
  if (!options.json.empty()) write_json(options.json, info, results);
  return options.check && !targets_met(info, results) ? 2 : 0;
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  bench::Options options;
  try {
    options = bench::parse(argc, argv);
  } catch (const std::invalid_argument& e) {
    if (*e.what()) std::fprintf(stderr, "native-bench: %s\n", e.what());
    std::fputs(bench::kUsage, stderr);
    return *e.what() ? 1 : 0;
  }
  try {
    return bench::bench_main(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "native-bench: %s\n", e.what());
    return 1;
  }
}
