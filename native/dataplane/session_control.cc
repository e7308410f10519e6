// The slow side of a worker's sessions: expiry, ending the sessions of servers and services
// that went away, and the control thread's list and flush requests. None of it runs per
// packet; listing and flushing walk the whole table.
#include <vector>

#include "flow.h"
#include "sync_events.h"

namespace l4lb {

namespace {

constexpr uint32_t kExpireBudget = 1024;   // per call (once a millisecond): bounds the pause

bool matches(const Session& s, const SessionFilter& filter) {
  return (filter.service_id == kAnyId || s.service_id == filter.service_id) &&
         (filter.backend_id == kAnyId || s.backend_id == filter.backend_id) &&
         (filter.client_address.is_unset() || s.inbound.source == filter.client_address) &&
         (filter.protocol == 0 || s.inbound.protocol == filter.protocol);
}

SessionInfo describe(const Worker& w, const Session& s) {
  SessionInfo info;
  info.protocol = s.inbound.protocol;
  info.state = static_cast<uint8_t>(s.state);
  copy_ends(s, info);
  info.service_id = s.service_id;
  info.backend_id = s.backend_id;
  info.worker = w.id;
  info.expires_in_ms = s.expires_ms > w.now_ms ? uint32_t(s.expires_ms - w.now_ms) : 0;
  info.from_peer = s.flags & kSessionFromPeer;
  return info;
}

// A piece of a full sync snapshot: refresh events for the sessions of services that sync, from
// request.slot on, at most request.limit of them and kSnapshotSlots slots (bounds the pause).
void snapshot_sessions(Worker& w, WorkerRequest& request) {
  constexpr uint32_t kSnapshotSlots = 1 << 16;
  request.slot = w.sessions->visit_from(request.slot, kSnapshotSlots, [&](uint32_t i) {
    const Session& s = w.sessions->at(i);
    const Service* service = w.snapshot->service_by_id[s.service_id];
    if (service && service->sync) request.events.push_back(sync_event_of(w, s, SyncKind::refresh));
    return request.events.size() < request.limit;
  });
}

// Resets (TCP) and erases every session `doomed` selects; returns how many.
template <class Pred>
size_t end_sessions(Worker& w, Pred doomed) {
  std::vector<uint32_t> ending;
  w.sessions->for_each([&](uint32_t i) {
    if (doomed(w.sessions->at(i))) ending.push_back(i);
  });
  for (uint32_t i : ending) {
    send_resets(w, w.sessions->at(i));
    end_session(w, i);
  }
  w.counters->sessions_reset += ending.size();
  return ending.size();
}

}  // namespace

void end_session(Worker& w, uint32_t index) {
  Session& s = w.sessions->at(index);
  const Service* service = w.snapshot ? w.snapshot->service_by_id[s.service_id] : nullptr;
  if (service && service->sync && w.snapshot->sync_events) write_sync_event(w, s, SyncKind::close);
  if (s.flags & kSessionFromPeer) --w.counters->sync.peer_sessions;
  else w.server_sessions[s.backend_id].fetch_sub(1, std::memory_order_relaxed);   // its slot (server_sessions.h)
  w.local_ports->release(s.outbound.destination, s.outbound.destination_port);
  release_hops(w, s);
  BackendCounters& bc = w.counters->backends[s.backend_id];
  if (is_active(s.state)) {
    --bc.active;
    --w.active[s.backend_id];
  } else {
    --bc.inactive;
  }
  --w.counters->sessions_live;
  w.sessions->erase(index);
}

void expire_sessions(Worker& w) {
  if (!w.sessions) return;
  w.sessions->expire(w.now_ms, kExpireBudget, [&](uint32_t i) {
    ++w.counters->sessions_expired;
    end_session(w, i);
  });
}

// Ends the sessions of backends that are gone or disabled and of services that are gone.
// The previous snapshot is still valid here: it is freed only after seen_generation moves.
void on_snapshot(Worker& w, const Snapshot* previous) {
  if (!previous || !w.sessions || w.sessions->size() == 0) return;
  const Snapshot& now = *w.snapshot;
  if (now.ended_backends.empty() && !now.services_gone) return;
  std::vector<bool> ended(kMaxBackends, false);
  for (uint32_t id : now.ended_backends) ended[id] = true;
  end_sessions(w, [&](const Session& s) { return ended[s.backend_id] || now.service_by_id[s.service_id] == nullptr; });
}

void serve_request(Worker& w, WorkerRequest& request) {
  request.matched = 0;
  if (!w.sessions) return;
  if (request.kind == WorkerRequest::Kind::flush_sessions) {
    request.matched = end_sessions(w, [&](const Session& s) { return matches(s, request.filter); });
    return;
  }
  if (request.kind == WorkerRequest::Kind::sync_snapshot) return snapshot_sessions(w, request);
  w.sessions->for_each([&](uint32_t i) {
    const Session& s = w.sessions->at(i);
    if (!matches(s, request.filter)) return;
    if (request.matched >= request.skip && request.sessions.size() < request.limit)
      request.sessions.push_back(describe(w, s));
    ++request.matched;
  });
}

}  // namespace l4lb
