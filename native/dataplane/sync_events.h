// Session sync on a worker (docs/sync.md): the events it writes for the sessions it forwards,
// and the peer sessions it installs from what the control thread queued for it.
//
// Writing: flow.cc calls sync_after_packet() after a packet moved a session, and
// session_control.cc calls write_sync_event(close) when one ends; both only for services with
// sync on while the snapshot says sync_events (enabled, not backup). A worker never waits: a
// full ring counts an overflow and the peer catches up at the next refresh or snapshot.
//
// Installing: a peer session goes into this worker's table bound to the same real server,
// local address and port (reserved in this worker's slice), with the client-address state and
// sequence shift of the origin, kept for its remaining time plus half its state's timeout
// (the origin refreshes at half the timeout, so a live session never lapses here first).
#pragma once

#include <algorithm>

#include "sessions.h"
#include "sync_record.h"
#include "worker.h"

namespace l4lb {

// Session::flags: installed from a peer and not yet touched by a packet here.
constexpr uint8_t kSessionFromPeer = 1 << 0;
// Session::flags: a peer's session a packet here adopted (a failover, an ECMP move); its
// packets count as forwarded for peers. Like kSessionFromPeer, never on the wire.
constexpr uint8_t kSessionTakenOver = 1 << 5;
// The longest a synced session goes without a refresh event, in seconds (half its timeout
// when that is shorter).
constexpr uint32_t kMaxRefreshS = 1u << 15;

// The event describing session `s` now.
SyncEvent sync_event_of(const Worker& w, const Session& s, SyncKind kind);
// Queues an event for the control thread; a full ring counts an overflow. Cost: a 64-byte
// copy into the ring and a release store (~20 cycles).
void write_sync_event(Worker& w, Session& s, SyncKind kind);
// Applies up to `budget` queued peer events; returns how many. Between bursts.
unsigned install_peer_sessions(Worker& w, unsigned budget);
// A packet touched a peer session: it is this node's own from now on.
void adopt_peer_session(Worker& w, Session& s);

// After a packet of `s` (whose service syncs): an event when the session opened, changed
// state or client-address progress (a peer must not send a PROXY header twice), or when its
// last one is older than half the state's timeout. Cost: three compares unless one is due.
inline void sync_after_packet(Worker& w, Session& s, TcpState state_before, uint8_t flags_before, bool opened) {
  // The session keeps its sync time in 16 bits (sessions.h), so the refresh interval is at
  // most 2^15 s (9 h): a difference below 2^16 is then read right.
  uint16_t since_s = uint16_t(uint16_t(w.now_ms / 1000) - s.synced_s);
  SyncKind kind;
  if (opened) kind = SyncKind::new_session;
  else if (s.state != state_before || (s.flags ^ flags_before) & ~kSessionFromPeer) kind = SyncKind::update;
  else if (since_s >= std::min<uint32_t>(s.timeout_s / 2, kMaxRefreshS)) kind = SyncKind::refresh;
  else return;
  write_sync_event(w, s, kind);
}

}  // namespace l4lb
