// EAL start-up and the packet pool.
//
// The EAL runs inside the Node process and can start only once, so start_eal() remembers its
// lcores. Memory: with enough free 2 MB hugepages the EAL runs `--in-memory` (no hugetlbfs
// files, no shared config, so two appliances on one host never collide) and preallocates a
// modest kHugepageMemoryMb; otherwise it falls back to ordinary memory (`--no-huge`), which
// every virtual device works with but PCI NICs mostly do not.
//
// Devices: none at start (kProbeNothing); each NIC's device is hot-plugged when configured.
//
// lcores: lcore 0 is the calling (Node main) thread, lcores 1..N the workers. The main lcore is
// mapped to the whole original affinity; worker i to the i-th allowed CPU, wrapping around, so
// a 2-core machine runs 2 workers as `--lcores 0@(0-1),1@1,2@0` (worker 2 shares CPU 0 with the
// control thread; the adaptive idle back-off keeps that bearable).
#include <sched.h>

#include <fstream>
#include <mutex>
#include <stdexcept>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "ports.h"

namespace l4lb {

namespace {

constexpr unsigned kHugepageMemoryMb = 128;   // per process: two appliances share a test host
constexpr unsigned kNoHugeMemoryMb = 256;
constexpr const char* kFreeHugepages = "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages";

// An allow-list of one PCI address no machine has (domain ffff): the EAL then probes no PCI device at start
// (without it, it takes every NIC bound to vfio-pci), while hot-plug still attaches the ones
// NIC objects name, since rte_dev_probe adds each to the allow-list as it goes.
constexpr const char* kProbeNothing = "ffff:ff:1f.7";

constexpr unsigned kPoolCache = 256;
constexpr unsigned kInFlightPerWorker = 4096;  // frames in inboxes, tx buffers, neighbour queues
constexpr unsigned kMaxPoolBuffers = 32767;    // ~80 MB: fits the EAL memory of either mode

// "0-3,6" for a set of CPUs, in the EAL's list syntax.
std::string cpu_list(const std::vector<unsigned>& cpus) {
  std::string out;
  for (size_t i = 0; i < cpus.size();) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(cpus[i]);
    if (j > i) out += '-' + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

unsigned free_hugepages() {
  std::ifstream file(kFreeHugepages);
  unsigned pages = 0;
  return file >> pages ? pages : 0;
}

std::vector<unsigned> worker_lcores() {
  std::vector<unsigned> lcores;
  unsigned lcore;
  RTE_LCORE_FOREACH_WORKER(lcore) lcores.push_back(lcore);
  return lcores;
}

}  // namespace

std::vector<std::string> eal_arguments(const EalOptions& options, unsigned free_hugepages, const cpu_set_t& cpus) {
  std::vector<unsigned> allowed;
  for (unsigned cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &cpus)) allowed.push_back(cpu);
  if (allowed.empty()) throw std::runtime_error("the process may run on no CPU");

  std::string main_cpus = cpu_list(allowed);
  std::string lcores = "0@" + (allowed.size() > 1 ? "(" + main_cpus + ")" : main_cpus);
  for (unsigned lcore = 1; lcore < options.lcores; ++lcore)
    lcores += "," + std::to_string(lcore) + "@" + std::to_string(allowed[lcore % allowed.size()]);

  std::vector<std::string> args = {"l4lb", "--lcores", lcores, "--file-prefix", "l4lb-" + options.instance,
                                   "--no-telemetry", "--log-level", "notice", "-a", kProbeNothing};
  if (free_hugepages >= kHugepageMemoryMb / 2) {
    args.insert(args.end(), {"--in-memory", "-m", std::to_string(kHugepageMemoryMb)});
  } else {
    args.insert(args.end(), {"--no-huge", "--no-shconf", "-m", std::to_string(kNoHugeMemoryMb)});
  }
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
  return args;
}

std::vector<unsigned> start_eal(const EalOptions& options) {
  static std::mutex once;
  static bool started = false;
  static std::string failure;             // the EAL cannot be retried after a failed start
  static std::vector<std::string> args;   // the EAL may keep pointers into its argv
  static std::vector<char*> argv;
  std::lock_guard<std::mutex> lock(once);
  if (started) return worker_lcores();
  if (!failure.empty()) throw std::runtime_error(failure);

  cpu_set_t affinity;
  if (sched_getaffinity(0, sizeof affinity, &affinity) != 0) throw std::runtime_error("cannot read the CPU affinity");
  args = eal_arguments(options, free_hugepages(), affinity);
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  int rc = rte_eal_init(int(args.size()), argv.data());
  int error = rte_errno;
  // rte_eal_init pins this thread to the main lcore; Node's main thread must stay free to move.
  sched_setaffinity(0, sizeof affinity, &affinity);
  if (rc < 0 && error != EALREADY) {
    std::string line;
    for (const std::string& arg : args) line += " " + arg;
    failure = "cannot start DPDK (EAL:" + line + "): " + rte_strerror(error);
    throw std::runtime_error(failure);
  }
  started = true;   // EALREADY: someone else started it (the native tests); use their lcores
  return worker_lcores();
}

rte_mempool* packet_pool(uint16_t workers, uint16_t max_ports) {
  static const char* kName = "l4lb_packets";
  if (rte_mempool* existing = rte_mempool_lookup(kName)) return existing;

  uint64_t rings = uint64_t(max_ports) * workers * (kRxDescriptors + kTxDescriptors);
  uint64_t caches = uint64_t(workers + 1) * kPoolCache * 3 / 2;   // a cache may hold 1.5× its size
  uint64_t wanted = rings + caches + uint64_t(workers) * kInFlightPerWorker;
  unsigned count = 1;
  while (count < wanted && count < kMaxPoolBuffers) count = count * 2 + 1;   // 2^k − 1 suits the ring

  // Frames up to RTE_MBUF_DEFAULT_DATAROOM (2048) bytes in one buffer: no jumbo frames yet.
  rte_mempool* pool =
      rte_pktmbuf_pool_create(kName, count, kPoolCache, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (!pool)
    throw std::runtime_error("cannot create the packet pool (" + std::to_string(count) +
                             " buffers): " + rte_strerror(rte_errno));
  return pool;
}

}  // namespace l4lb
