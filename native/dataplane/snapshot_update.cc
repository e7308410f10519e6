// update_snapshot: a snapshot from the previous one with some services replaced, added or
// removed — what a real-server write or a health transition costs. Unchanged services are
// shared (shared_ptr), so the work is the changed services plus a few flat copies.
//
// Ids follow the rule of the whole compile: the changed services' ids are assigned before any
// id of a removed service or real server is released, so no id changes owner within one update.
#include <algorithm>
#include <stdexcept>

#include "snapshot_build.h"

namespace l4lb {

namespace {

// Takes `s` out of the VIP, service-id and backend-id indexes.
void unindex_service(Snapshot& snap, const Service& s) {
  snap.by_vip.erase(ServiceKey{s.address, s.port, uint8_t(s.protocol)});
  snap.service_by_id[s.id] = nullptr;
  for (const Backend& b : s.backends) snap.backend_by_id[b.id] = nullptr;
}

std::unique_ptr<Snapshot> updated(const Snapshot& previous, const Config& running,
                                  const std::vector<ServiceConfig>& changed, const std::vector<std::string>& removed,
                                  const std::map<std::string, NicPorts>& ports, IdMap& service_ids,
                                  IdMap& backend_ids) {
  // Flat copies: ~0.5 MB of id indexes, a pointer per service and VIP. Pools, routes and
  // ports are small and unchanged; by_local_address points into `pools`, so it is rebuilt.
  auto snap = std::make_unique<Snapshot>();
  snap->generation = running.generation;
  snap->workers = previous.workers;
  snap->sync_events = previous.sync_events;
  snap->backup = previous.backup;
  snap->ports = previous.ports;
  snap->routes = previous.routes;
  snap->pools = previous.pools;
  index_local_addresses(*snap);
  snap->services = previous.services;
  snap->by_vip = previous.by_vip;
  snap->service_by_id = previous.service_by_id;
  snap->backend_by_id = previous.backend_by_id;

  // Replaced and removed services, as they were, out of the indexes; their slots in `services`
  // are marked null and dropped in one pass below (no search per service).
  std::vector<const Service*> before;
  auto take_out = [&](uint32_t id) {
    const Service* was = id == IdMap::kNoId ? nullptr : previous.service_by_id[id];
    if (!was) return;
    before.push_back(was);
    unindex_service(*snap, *was);
  };
  for (const std::string& name : removed) take_out(service_ids.find(name));

  bool vips_moved = !removed.empty();
  std::vector<uint32_t> assigned;       // service ids in use after this update, among those touched
  std::vector<std::shared_ptr<const Service>> built;
  for (const ServiceConfig& s : changed) {
    uint32_t id = assign_or_throw(service_ids, s.name, "service");
    assigned.push_back(id);
    const Service* was = previous.service_by_id[id];
    take_out(id);
    built.push_back(build_service(running, s, id, backend_ids, ports, *snap, was));
    vips_moved |= !was || was->address != built.back()->address || was->in_port != built.back()->in_port;
  }
  // Indexed after every replaced service was taken out: two of them may swap VIPs.
  for (const auto& service : built) index_service(*snap, *service, service_ids);
  std::sort(before.begin(), before.end());
  auto gone = [&](const std::shared_ptr<const Service>& s) { return std::binary_search(before.begin(), before.end(), s.get()); };
  snap->services.erase(std::remove_if(snap->services.begin(), snap->services.end(), gone), snap->services.end());
  snap->services.insert(snap->services.end(), built.begin(), built.end());
  if (vips_moved) index_owned(*snap);

  for (const Service* was : before) {
    add_ended_backends(*was, *snap, snap->ended_backends);
    snap->services_gone |= snap->service_by_id[was->id] == nullptr;
  }
  std::sort(snap->ended_backends.begin(), snap->ended_backends.end());

  // Now that every new id is taken, the ids of what is gone are free for the next update.
  for (const Service* was : before) {
    if (std::find(assigned.begin(), assigned.end(), was->id) == assigned.end()) service_ids.release(was->id);
    for (const Backend& b : was->backends)
      if (!snap->backend_by_id[b.id]) backend_ids.release(b.id);
  }
  return snap;
}

}  // namespace

std::unique_ptr<Snapshot> update_snapshot(const Snapshot& previous, const Config& running,
                                          const std::vector<ServiceConfig>& changed,
                                          const std::vector<std::string>& removed,
                                          const std::map<std::string, NicPorts>& ports, IdMap& service_ids,
                                          IdMap& backend_ids) {
  try {
    return updated(previous, running, changed, removed, ports, service_ids, backend_ids);
  } catch (...) {
    // Refused: the ids are those of `previous` again (a walk of every id, on failure only).
    service_ids.begin_marking();
    backend_ids.begin_marking();
    for (const auto& s : previous.services) {
      service_ids.mark(s->id);
      for (const Backend& b : s->backends) backend_ids.mark(b.id);
    }
    service_ids.sweep();
    backend_ids.sweep();
    throw;
  }
}

}  // namespace l4lb
