// The control side of the data plane: owns the EAL's packet pool, the workers and the open
// ports, and turns each applied Config into a published Snapshot.
//
// Publication is read-copy-update without locks on the fast path: the new snapshot is stored
// in `published`; each worker picks it up between bursts and records its generation in
// `seen_generation`; once every worker has, nobody can still read the previous one and it is
// freed. Ports that leave the configuration are closed only after that point too, so no
// worker ever polls a closed port.
#include "dataplane.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <thread>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "ports.h"
#include "sessions.h"
#include "dataplane_impl.h"

namespace l4lb {

namespace {

constexpr unsigned kInboxSize = 4096;
constexpr unsigned kSyncRingSize = 1 << 15;   // events; 2 MB a ring: ~60 ms of 500k events/s

// A ring of pointers (esize 0) or of esize-byte elements; throws when it cannot be made.
rte_ring* make_ring(const std::string& name, unsigned count, unsigned esize, int socket, unsigned flags) {
  rte_ring* ring = esize ? rte_ring_create_elem(name.c_str(), esize, count, socket, flags)
                         : rte_ring_create(name.c_str(), count, socket, flags);
  if (!ring) throw std::runtime_error("cannot create ring " + name + ": " + rte_strerror(rte_errno));
  return ring;
}
constexpr auto kWorkerWait = std::chrono::seconds(2);

int run_worker(void* arg) {
  static_cast<Worker*>(arg)->run();
  return 0;
}

// Software ports get one queue pair per worker: the API refuses qpairs= and queue_count=
// (store/devices.ts), and only the native tests and benchmark name them themselves.
std::string with_queues(const std::string& device, uint16_t workers) {
  auto has = [&](const char* arg) { return device.find(arg) != std::string::npos; };
  if (device.rfind("net_af_packet", 0) == 0 && !has(",qpairs="))
    return device + ",qpairs=" + std::to_string(workers);
  if (device.rfind("net_af_xdp", 0) == 0 && !has(",queue_count="))
    return device + ",queue_count=" + std::to_string(workers);
  return device;
}

// A NIC is reopened when anything its port was opened with changes.
bool same_port(const NicConfig& a, const NicConfig& b) {
  return a.device == b.device && a.mtu == b.mtu && a.probe.address == b.probe.address &&
         a.probe.length == b.probe.length && a.probe6.address == b.probe6.address && a.probe6.length == b.probe6.length;
}

}  // namespace

void Dataplane::Impl::start_workers(const std::vector<unsigned>& lcores) {
  if (lcores.size() < options.workers)
    throw std::runtime_error("only " + std::to_string(lcores.size()) + " lcores for " +
                             std::to_string(options.workers) + " workers");
  for (uint16_t i = 0; i < options.workers; ++i) {
    auto w = std::make_unique<Worker>();
    w->id = i;
    w->workers = options.workers;
    w->lcore = lcores[i];
    w->idle = options.idle;
    w->tsc_hz = rte_get_tsc_hz();
    w->published = &published;
    w->doorbell = &doorbell;
    w->server_sessions = server_sessions.counts.get();
    std::string ring = "l4lb_in_" + options.instance + "_" + std::to_string(i);
    int socket = rte_lcore_to_socket_id(w->lcore);
    w->inbox = make_ring(ring, kInboxSize, 0, socket, RING_F_SC_DEQ);
    // Sync rings: one producer (the worker, or the control thread) and one consumer each.
    w->sync_out = make_ring("l4so_" + options.instance + "_" + std::to_string(i), kSyncRingSize, sizeof(SyncEvent),
                           socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
    w->sync_in = make_ring("l4si_" + options.instance + "_" + std::to_string(i), kSyncRingSize, sizeof(SyncEvent),
                          socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
    w->all = &worker_list;
    w->sessions = make_session_table(options.sessions_per_worker);
    w->local_ports = make_local_ports(i, options.workers);
    w->pool = pool;
    worker_list.push_back(w.get());
    workers.push_back(std::move(w));
  }
  for (auto& w : workers)
    if (rte_eal_remote_launch(run_worker, w.get(), w->lcore) != 0)
      throw std::runtime_error("cannot launch a worker on lcore " + std::to_string(w->lcore));
}

void Dataplane::Impl::stop_workers() {
  for (auto& w : workers) w->stop.store(true);
  for (auto& w : workers) rte_eal_wait_lcore(w->lcore);
  for (auto& w : workers) {
    rte_mbuf* m;
    while (w->inbox && rte_ring_dequeue(w->inbox, reinterpret_cast<void**>(&m)) == 0) rte_pktmbuf_free(m);
    rte_ring_free(w->inbox);
    rte_ring_free(w->sync_out);
    rte_ring_free(w->sync_in);
  }
  workers.clear();
  worker_list.clear();
}

Dataplane::Impl::Nic Dataplane::Impl::open_nic(const NicConfig& config) {
  Nic nic{config, {}, config.probe.length || config.probe6.length ? next_tap_name() : ""};
  PortSpec spec{config.name, with_queues(config.device, options.workers), options.workers, config.mtu, config.probe,
                config.probe6, nic.tap_name};
  nic.port = open_port(spec, pool);
  return nic;
}

// Publishes `next`. Workers must see every snapshot in turn (a snapshot's ended backends and
// freed ids are relative to the one before), so it first waits until every worker runs the
// current one: at once unless the previous publish was moments ago. With `wait`, it returns
// only when every worker runs `next` (a port that left the configuration may then close);
// without, at once: workers take it at their next burst, which the doorbell makes immediate
// for an idle worker in adaptive mode. The replaced snapshot is freed once no worker can
// still read it.
void Dataplane::Impl::publish(std::unique_ptr<Snapshot> next, bool wait) {
  wait_for_workers(epoch);
  next->generation = ++epoch;
  published.store(next.get(), std::memory_order_release);
  ring();
  if (current) retired.push_back(std::move(current));
  current = std::move(next);
  if (wait) wait_for_workers(epoch);
  reclaim();
}

// Cost: an atomic add and a futex wake (~1 µs), so an idle worker takes the change at once.
void Dataplane::Impl::ring() {
  doorbell.fetch_add(1, std::memory_order_release);
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&doorbell), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
}

void Dataplane::Impl::wait_for_workers(uint64_t generation) {
  auto deadline = std::chrono::steady_clock::now() + kWorkerWait;
  for (auto& w : workers) {
    while (w->seen_generation.load(std::memory_order_acquire) < generation) {
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("worker " + std::to_string(w->id) + " did not take the new configuration");
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }
}

// Frees the retired snapshots no worker can still read: those older than every worker's.
void Dataplane::Impl::reclaim() {
  uint64_t oldest = epoch;
  for (auto& w : workers) oldest = std::min(oldest, w->seen_generation.load(std::memory_order_acquire));
  retired.erase(std::remove_if(retired.begin(), retired.end(),
                               [&](const std::unique_ptr<Snapshot>& s) { return s->generation < oldest; }),
                retired.end());
}

namespace {

void wait_until_served(const WorkerRequest& request, size_t worker, std::chrono::steady_clock::time_point deadline) {
  while (!request.done.load(std::memory_order_acquire)) {
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("worker " + std::to_string(worker) + " did not answer");
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

}  // namespace

// Posts one request per worker and waits for all of them to be served.
void Dataplane::Impl::run_on_workers(WorkerRequest* requests) {
  for (size_t i = 0; i < workers.size(); ++i) workers[i]->request.store(&requests[i], std::memory_order_release);
  ring();
  auto deadline = std::chrono::steady_clock::now() + kWorkerWait;
  for (size_t i = 0; i < workers.size(); ++i) wait_until_served(requests[i], i, deadline);
}

void Dataplane::Impl::run_on_worker(size_t index, WorkerRequest& request) {
  workers[index]->request.store(&request, std::memory_order_release);
  ring();
  wait_until_served(request, index, std::chrono::steady_clock::now() + kWorkerWait);
}

Dataplane::Dataplane(const EngineOptions& options) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  if (impl_->options.instance.empty()) impl_->options.instance = std::to_string(getpid());
  if (impl_->options.workers == 0) throw std::runtime_error("at least one worker is needed");
  EalOptions eal{impl_->options.instance, unsigned(options.workers) + 1, options.extra_eal_args};
  std::vector<unsigned> lcores = start_eal(eal);
  impl_->pool = packet_pool(options.workers, kMaxPorts);
  impl_->start_workers(lcores);
  impl_->publish(compile_snapshot(Config{}, {}, options.workers, impl_->service_ids, impl_->backend_ids, nullptr));
}

Dataplane::~Dataplane() {
  impl_->stop_workers();
  for (auto& [name, nic] : impl_->nics) close_port(nic.port);
}

std::vector<ApplyError> Dataplane::check(const Config& config) {
  std::vector<ApplyError> errors;
  for (const NicConfig& nic : config.nics) {
    for (const NicConfig& other : config.nics)
      if (&other < &nic && other.device == nic.device)
        errors.push_back({"/nics/" + nic.name + "/device", "device " + nic.device + " is already NIC " + other.name});
    auto open = impl_->nics.find(nic.name);
    if (open != impl_->nics.end() && open->second.config.device == nic.device) continue;
    std::string why = check_device(nic.device);
    if (!why.empty()) errors.push_back({"/nics/" + nic.name + "/device", why});
  }
  return errors;
}

// The part of `config` that depends only on the NICs in `keep`: what workers may run while the
// other ports are being closed and reopened.
static Config restrict_to_nics(const Config& config, const std::map<std::string, NicPorts>& keep) {
  Config part;
  part.generation = config.generation;
  for (const NicConfig& nic : config.nics)
    if (keep.count(nic.name)) part.nics.push_back(nic);
  for (const RouteConfig& route : config.routes)
    if (keep.count(route.nic)) part.routes.push_back(route);
  std::map<std::string, bool> pools;
  for (const PoolConfig& pool : config.pools)
    if (keep.count(pool.nic)) {
      part.pools.push_back(pool);
      pools[pool.name] = true;
    }
  for (const ServiceConfig& service : config.services)
    if (keep.count(service.nic) && pools.count(service.pool)) part.services.push_back(service);
  return part;
}

std::vector<ApplyError> Dataplane::apply(const Config& config) {
  std::vector<ApplyError> errors = check(config);
  if (!errors.empty()) return errors;
  Impl& d = *impl_;
  try {
    // Ports that leave or change close first (after the workers stopped polling them), so a
    // device that moves to another NIC entry is free when that entry opens it.
    std::vector<std::string> leaving;
    for (auto& [name, nic] : d.nics) {
      const std::string& running = name;   // C++17 lambdas cannot capture a structured binding
      auto wanted = std::find_if(config.nics.begin(), config.nics.end(),
                                 [&](const NicConfig& n) { return n.name == running; });
      if (wanted == config.nics.end() || !same_port(nic.config, *wanted)) leaving.push_back(name);
    }
    if (!leaving.empty()) {
      std::map<std::string, NicPorts> staying = d.open_ports();
      for (const std::string& name : leaving) staying.erase(name);
      d.publish(compile_snapshot(restrict_to_nics(config, staying), staying, d.options.workers, d.service_ids,
                                 d.backend_ids, d.current.get()));
      for (const std::string& name : leaving) {
        close_port(d.nics[name].port);
        d.nics.erase(name);
      }
    }
    for (const NicConfig& nic : config.nics)
      if (!d.nics.count(nic.name)) d.nics.emplace(nic.name, d.open_nic(nic));
    d.publish(compile_snapshot(config, d.open_ports(), d.options.workers, d.service_ids, d.backend_ids,
                               d.current.get()));
  } catch (const std::exception& e) {
    // The caller reapplies the last configuration that was accepted, which reopens what closed.
    return {{"", e.what()}};
  }
  // Without the services: the snapshot holds them, compiled, and update_services changes them there.
  d.config = Config{config.generation, config.sync, config.nics, config.routes, config.pools, {}};
  return {};
}

// Cost: the changed services (update_snapshot shares the others) and one publish that does
// not wait for the workers (no port closes here).
std::vector<ApplyError> Dataplane::update_services(uint64_t generation, const std::vector<ServiceConfig>& services,
                                                   const std::vector<std::string>& removed) {
  Impl& d = *impl_;
  try {
    d.publish(update_snapshot(*d.current, d.config, services, removed, d.open_ports(), d.service_ids, d.backend_ids),
              false);
  } catch (const std::exception& e) {
    return {{"", e.what()}};
  }
  d.config.generation = generation;
  return {};
}

std::map<std::string, NicPorts> Dataplane::Impl::open_ports() const {
  std::map<std::string, NicPorts> ports;
  for (auto& [name, nic] : nics) ports[name] = {nic.port.port, nic.port.tap, nic.port.mac};
  return ports;
}

}  // namespace l4lb
