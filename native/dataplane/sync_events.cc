// Session sync on a worker: see sync_events.h.
#include "sync_events.h"

#include <algorithm>

#include <rte_ring_elem.h>

#include "flow.h"

namespace l4lb {

namespace {

void count_drop(Worker& w, SyncDrop why) { ++w.counters->sync.dropped[static_cast<int>(why)]; }

const Backend* find_backend(const Service& service, const Address& address, uint16_t port) {
  for (const Backend& b : service.backends)
    if (b.address == address && b.port == port) return &b;
  return nullptr;
}

// Own addresses (sessions of this node's earlier life) or a cluster peer's of the same pool.
bool in_pool(const Snapshot& snap, const Service& service, const Address& local) {
  return service.pool < snap.pools.size() && snap.pools[service.pool].holds(local);
}

// Brings an existing session in line with the origin's view of it.
void update_session(Worker& w, uint32_t index, const SyncEvent& e, uint32_t keep_s) {
  Session& s = w.sessions->at(index);
  set_state(w, s, static_cast<TcpState>(e.state));
  s.flags = uint8_t((s.flags & (kSessionFromPeer | kSessionTakenOver)) | e.flags);
  s.seq_delta = e.seq_delta;
  s.client_first_seq = e.client_first_seq;
  s.client_next_seq = e.client_next_seq;
  s.server_next_seq = e.server_next_seq;
  w.sessions->touch(index, w.now_ms, keep_s);
  ++w.counters->sync.updated;
}

// A session this worker has not seen: its local port is taken from the slice (a stale session
// of ours holding it gives way: the origin's record is the newer truth), then it is inserted.
void insert_session(Worker& w, const SyncEvent& e, const Service& service, const Backend& backend,
                    const FlowKey& inbound, const FlowKey& outbound, uint32_t keep_s) {
  Egress client_side = w.snapshot->route(e.client_address);
  if (client_side.port == kNoPort || backend.egress.port == kNoPort) return count_drop(w, SyncDrop::no_route);
  if (!w.local_ports->reserve(e.local_address, e.local_port)) {
    Direction d;
    uint32_t holder = w.sessions->find(outbound, &d);
    if (holder != kNoSession) end_session(w, holder);
    if (holder == kNoSession || !w.local_ports->reserve(e.local_address, e.local_port))
      return count_drop(w, SyncDrop::conflict);
  }
  Session s;
  if (!make_session(w, inbound, outbound, service, backend, client_side, &s)) {
    w.local_ports->release(e.local_address, e.local_port);
    return count_drop(w, SyncDrop::no_route);   // the worker's hop table is full
  }
  s.state = static_cast<TcpState>(e.state);
  s.flags = uint8_t(e.flags | kSessionFromPeer);
  s.seq_delta = e.seq_delta;
  s.client_first_seq = e.client_first_seq;
  s.client_next_seq = e.client_next_seq;
  s.server_next_seq = e.server_next_seq;
  s.timeout_s = keep_s;
  s.expires_ms = w.now_ms + 1000ull * keep_s;
  s.synced_s = uint16_t(w.now_ms / 1000);
  if (w.sessions->insert(s) == kNoSession) {
    release_hops(w, s);
    w.local_ports->release(e.local_address, e.local_port);
    return count_drop(w, SyncDrop::table_full);
  }
  count_live_session(w, s);
  ++w.counters->sync.installed;
  ++w.counters->sync.peer_sessions;
}

void apply_peer_event(Worker& w, const SyncEvent& e) {
  const Service* service = w.snapshot->find_service(e.virtual_address, e.virtual_port, e.protocol);
  if (!service) return count_drop(w, SyncDrop::unknown_service);
  if (!service->sync) return count_drop(w, SyncDrop::service_not_synced);
  const Backend* backend = find_backend(*service, e.server_address, e.server_port);
  if (!backend) return count_drop(w, SyncDrop::unknown_server);
  if (!in_pool(*w.snapshot, *service, e.local_address)) return count_drop(w, SyncDrop::unknown_local_address);

  FlowKey inbound{e.client_address, e.virtual_address, e.client_port, e.virtual_port, e.protocol};
  FlowKey outbound{e.server_address, e.local_address, e.server_port, e.local_port, e.protocol};
  Direction d;
  uint32_t index = w.sessions->find(inbound, &d);
  if (index != kNoSession && !(w.sessions->at(index).outbound == outbound)) {
    end_session(w, index);   // the client's port was reused for another flow on the origin
    index = kNoSession;
  }
  if (e.kind == SyncKind::close) {
    if (index != kNoSession) {
      end_session(w, index);
      ++w.counters->sync.closed;
    }
    return;
  }
  uint32_t keep_s = (e.remaining_ms + 999) / 1000 + e.timeout_s / 2;
  if (index != kNoSession) return update_session(w, index, e, keep_s);
  insert_session(w, e, *service, *backend, inbound, outbound, keep_s);
}

}  // namespace

SyncEvent sync_event_of(const Worker& w, const Session& s, SyncKind kind) {
  SyncEvent e;
  e.kind = kind;
  e.protocol = s.inbound.protocol;
  e.state = static_cast<uint8_t>(s.state);
  e.flags = s.flags;
  e.worker = w.id;
  copy_ends(s, e);
  e.seq_delta = s.seq_delta;
  e.client_first_seq = s.client_first_seq;
  e.client_next_seq = s.client_next_seq;
  e.server_next_seq = s.server_next_seq;
  e.timeout_s = s.timeout_s;
  e.remaining_ms = s.expires_ms > w.now_ms ? uint32_t(std::min<uint64_t>(s.expires_ms - w.now_ms, UINT32_MAX)) : 0;
  return e;
}

void write_sync_event(Worker& w, Session& s, SyncKind kind) {
  s.synced_s = uint16_t(w.now_ms / 1000);
  if (!w.sync_out) return;
  SyncEvent e = sync_event_of(w, s, kind);
  if (rte_ring_sp_enqueue_elem(w.sync_out, &e, sizeof(e)) == 0) ++w.counters->sync.events_queued;
  else ++w.counters->sync.ring_overflows;
}

unsigned install_peer_sessions(Worker& w, unsigned budget) {
  if (!w.sync_in) return 0;
  SyncEvent events[32];
  unsigned done = 0;
  while (done < budget) {
    unsigned n = rte_ring_sc_dequeue_burst_elem(w.sync_in, events, sizeof(SyncEvent),
                                                std::min<unsigned>(32, budget - done), nullptr);
    if (n == 0) break;
    for (unsigned i = 0; i < n; ++i) apply_peer_event(w, events[i]);
    done += n;
  }
  return done;
}

void adopt_peer_session(Worker& w, Session& s) {
  s.flags = uint8_t((s.flags & ~kSessionFromPeer) | kSessionTakenOver);
  --w.counters->sync.peer_sessions;
  // Counted against maxConnections from now on (server_sessions.h), even past the limit: the
  // connection is open on the server already, refusing it here would only break it.
  w.server_sessions[s.backend_id].fetch_add(1, std::memory_order_relaxed);
  ++w.counters->sync.taken_over;
}

}  // namespace l4lb
