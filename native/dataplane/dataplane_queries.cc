// What the control plane reads from the data plane: counters summed over workers, link
// state, live sessions (collected by the workers themselves between bursts), and the two
// commands that act on live state (flush, gratuitous ARP).
#include <rte_ethdev.h>

#include "dataplane_impl.h"

namespace l4lb {

namespace {

// Port and service counters are nothing but 64-bit counters: summed word by word.
template <class C>
void add_words(C& sum, const C& c) {
  static_assert(sizeof(C) % sizeof(uint64_t) == 0 && alignof(C) == alignof(uint64_t));
  auto* to = reinterpret_cast<uint64_t*>(&sum);
  auto* from = reinterpret_cast<const uint64_t*>(&c);
  for (size_t i = 0; i < sizeof(C) / sizeof(uint64_t); ++i) to[i] += from[i];
}

void add(PortCounters& sum, const PortCounters& c) { add_words(sum, c); }


void add(ServiceCounters& sum, const ServiceCounters& c) { add_words(sum, c); }

void add(SyncCounters& sum, const SyncCounters& c) { add_words(sum, c); }

void add(BackendCounters& sum, const BackendCounters& c) {
  sum.new_sessions += c.new_sessions;
  sum.packets_in += c.packets_in;
  sum.packets_out += c.packets_out;
  sum.bytes_in += c.bytes_in;
  sum.bytes_out += c.bytes_out;
  sum.active += c.active;
  sum.inactive += c.inactive;
  sum.limited += c.limited;
}

}  // namespace

std::vector<NicStatus> Dataplane::nic_status() {
  Impl& d = *impl_;
  std::vector<NicStatus> nics;
  for (auto& [name, nic] : d.nics) {
    NicStatus n;
    n.name = name;
    n.port = nic.port.port;
    n.tap = nic.tap_name;
    LinkState link = link_state(nic.port);
    n.link_up = link.up;
    n.speed_mbps = link.speed_mbps;
    for (auto& w : d.workers) add(n.counters, w->counters->ports[nic.port.port]);
    rte_eth_stats hw{};
    if (rte_eth_stats_get(nic.port.port, &hw) == 0) {
      n.hw_rx_packets = hw.ipackets;
      n.hw_tx_packets = hw.opackets;
      n.hw_rx_missed = hw.imissed;
      n.hw_rx_errors = hw.ierrors;
      n.hw_tx_errors = hw.oerrors;
    }
    nics.push_back(std::move(n));
  }
  return nics;
}

EngineStatus Dataplane::status(const std::string* only_service) {
  Impl& d = *impl_;
  EngineStatus status;
  status.generation = d.config.generation;
  if (!only_service) status.nics = nic_status();   // one service's status: no link state or device counters
  std::vector<const Service*> services;
  if (only_service) {
    uint32_t id = d.service_ids.find(*only_service);
    if (id != IdMap::kNoId && d.current->service_by_id[id]) services.push_back(d.current->service_by_id[id]);
  } else {
    for (const auto& service : d.current->services) services.push_back(service.get());
  }
  for (const Service* one : services) {
    const Service& service = *one;
    ServiceStatus s;
    s.name = *d.service_ids.name(service.id);
    for (auto& w : d.workers) add(s.counters, w->counters->services[service.id]);
    for (const Backend& backend : service.backends) {
      ServiceStatus::Server server;
      const std::string* key = d.backend_ids.name(backend.id);
      server.name = key ? key->substr(s.name.size() + 1) : "";
      for (auto& w : d.workers) add(server.counters, w->counters->backends[backend.id]);
      s.servers.push_back(std::move(server));
    }
    status.services.push_back(std::move(s));
  }
  for (auto& w : d.workers) {
    const WorkerCounters& c = *w->counters;
    status.workers.push_back({w->id, w->lcore, c.sessions_live, c.redirected_out, c.redirected_in, c.loops, c.busy_loops, c.burst});
    status.sessions_live += c.sessions_live;
    status.sessions_expired += c.sessions_expired;
    status.sessions_reset += c.sessions_reset;
    ClientAddressCounters& a = status.client_address;
    a.toa_added += c.client_address.toa_added;
    a.toa_failed += c.client_address.toa_failed;
    a.proxy_headers += c.client_address.proxy_headers;
    a.proxy_own_segments += c.client_address.proxy_own_segments;
    a.proxy_failed += c.client_address.proxy_failed;
    add(status.sync, c.sync);
  }
  for (int i = 0; i < static_cast<int>(SyncDrop::count_); ++i) status.sync.dropped[i] += d.sync_refused[i];
  return status;
}

std::vector<SessionRecord> Dataplane::sessions(const SessionFilter& filter, size_t skip, size_t limit,
                                                size_t* total) {
  Impl& d = *impl_;
  // Each worker lists its first skip+limit matches; the page is cut from their concatenation
  // in worker order, which is stable while the sessions are.
  std::vector<WorkerRequest> requests(d.workers.size());
  for (WorkerRequest& r : requests) {
    r.kind = WorkerRequest::Kind::list_sessions;
    r.filter = filter;
    r.skip = 0;
    r.limit = skip + limit;
  }
  d.run_on_workers(requests.data());
  std::vector<SessionRecord> page;
  size_t seen = 0;
  *total = 0;
  for (WorkerRequest& r : requests) {
    *total += r.matched;
    for (const SessionInfo& info : r.sessions) {
      if (seen++ < skip || page.size() >= limit) continue;
      SessionRecord record;
      static_cast<SessionInfo&>(record) = info;
      const std::string* service = d.service_ids.name(info.service_id);
      const std::string* server = d.backend_ids.name(info.backend_id);
      record.service = service ? *service : "";
      record.server = server && service ? server->substr(service->size() + 1) : "";
      page.push_back(std::move(record));
    }
  }
  return page;
}

size_t Dataplane::flush_sessions(const std::string& service) {
  Impl& d = *impl_;
  SessionFilter filter;
  if (!service.empty()) {
    filter.service_id = d.service_ids.find(service);
    if (filter.service_id == IdMap::kNoId) return 0;
  }
  std::vector<WorkerRequest> requests(d.workers.size());
  for (WorkerRequest& r : requests) {
    r.kind = WorkerRequest::Kind::flush_sessions;
    r.filter = filter;
  }
  d.run_on_workers(requests.data());
  size_t ended = 0;
  for (WorkerRequest& r : requests) ended += r.matched;
  return ended;
}

void Dataplane::announce() {
  for (auto& w : impl_->workers) w->announce.store(true, std::memory_order_release);
}

uint32_t Dataplane::service_id(const std::string& name) const {
  uint32_t id = impl_->service_ids.find(name);
  return id == IdMap::kNoId ? kAnyId : id;
}

uint32_t Dataplane::backend_id(const std::string& service, const std::string& server) const {
  uint32_t id = impl_->backend_ids.find(backend_key(service, server));
  return id == IdMap::kNoId ? kAnyId : id;
}

}  // namespace l4lb
