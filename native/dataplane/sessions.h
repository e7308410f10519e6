// A worker's session table: fixed-size sessions in one preallocated array, found from either
// direction through one open-addressing index, expired by a timer wheel. Owned by one worker;
// no locks. Full means full: insert() fails and the caller counts a table_full drop.
//
// Memory per session (the benchmark prints it): the Session itself, its wheel links, and two
// index slots at the index's load factor; the target is at most 256 bytes.
#pragma once

#include <cstdint>
#include <memory>

#include "config.h"

namespace l4lb {

// One direction of a flow as it appears on the wire (source → destination).
struct FlowKey {
  Address source, destination;
  uint16_t source_port = 0, destination_port = 0;
  uint8_t protocol = 0;
  bool operator==(const FlowKey& o) const {
    return source == o.source && destination == o.destination && source_port == o.source_port &&
           destination_port == o.destination_port && protocol == o.protocol;
  }
};

enum class TcpState : uint8_t {
  none, syn_sent, syn_recv, established, fin_wait, close_wait, last_ack, time_wait, close, udp
};
const char* tcp_state_name(TcpState s);

enum class Direction : uint8_t { inbound /* client → server */, outbound /* server → client */ };

// TCP flag bits as in the header.
constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10;

// The next state after a segment with `flags` went in `direction`; the table is the usual
// connection-tracking one (as LVS/DPVS keep it), with a RST closing at once.
TcpState next_tcp_state(TcpState current, Direction direction, uint8_t flags);
// Idle timeout of a state in seconds, from the service's timeouts.
uint32_t state_timeout_s(TcpState s, const Timeouts& t);
// Whether a state counts as an active session (ESTABLISHED, or any UDP) for lc/wlc and counters.
inline bool is_active(TcpState s) { return s == TcpState::established || s == TcpState::udp; }

constexpr uint32_t kNoSession = 0xffffffff;

// Next hop of a session's side when it is the flow's peer itself (on-link); any other value
// names an entry of the worker's NextHops (next_hops.h).
constexpr uint32_t kDirectHop = 0xffffffff;

// Two cache lines, aligned, for either family: the keys take 80 bytes (two 16-byte addresses
// each, address.h), so everything else is packed into 48: ids as bit fields, next hops as
// 4-byte names (next_hops.h), the sync time in 16 bits; the timer wheel's links live in an
// array of their own (WheelLinks) since the packet path never reads them.
struct alignas(64) Session {
  Session() : service_id(0), backend_id(0) {}

  FlowKey inbound;              // client → VIP, as received
  FlowKey outbound;             // real server → local address, as received
  uint32_t service_id : 12;     // < kMaxServices (snapshot.h)
  uint32_t backend_id : 20;     // < kMaxBackends
  uint8_t client_port_id = 0;   // DPDK port towards the client (< kMaxPorts)
  uint8_t server_port_id = 0;   // DPDK port towards the real server
  TcpState state = TcpState::none;
  uint8_t flags = 0;            // kSessionFromPeer (sync_events.h); client address mode and progress (client_address.h)
  uint16_t wheel_slot = 0;      // timer wheel (32768 slots)
  uint16_t synced_s = 0;        // worker clock in seconds, mod 2^16: when the last sync event was written
  uint32_t client_hop = kDirectHop, server_hop = kDirectHop;   // next hop towards each side
  int32_t seq_delta = 0;        // added to inbound seq, subtracted from outbound ack (PROXY header)
  uint32_t client_next_seq = 0; // TCP: seq after the client's last segment, as received (RST to either side)
  uint32_t server_next_seq = 0; // TCP: seq after the server's last segment, as received
  uint32_t timeout_s = 0;       // of the current state
  uint32_t client_first_seq = 0;  // PROXY: the client's ISN + 1, where the header goes (client_address.h)
  uint64_t expires_ms = 0;      // absolute, in the worker's clock
};
static_assert(sizeof(Session) == 128, "a session is two cache lines; keep it so");

// A session's place on the timer wheel's lists (timer_wheel.h), or in the free list.
struct WheelLinks {
  uint32_t next = kNoSession, prev = kNoSession;
};

// Copies a session's four ends into `out`: anything with client_, virtual_, local_ and
// server_ address and port fields (SessionInfo, SyncEvent).
template <class Ends>
void copy_ends(const Session& s, Ends& out) {
  out.client_address = s.inbound.source;
  out.client_port = s.inbound.source_port;
  out.virtual_address = s.inbound.destination;
  out.virtual_port = s.inbound.destination_port;
  out.local_address = s.outbound.destination;
  out.local_port = s.outbound.destination_port;
  out.server_address = s.outbound.source;
  out.server_port = s.outbound.source_port;
}

class SessionTable {
 public:
  explicit SessionTable(uint32_t capacity);
  ~SessionTable();

  uint32_t capacity() const;
  uint32_t size() const;
  // The session with this key in either direction, or kNoSession; `direction` tells which.
  uint32_t find(const FlowKey& key, Direction* direction) const;

  // Lookups of a whole burst, so that its memory waits overlap instead of adding up (a cold
  // lookup waits for an index line, then for the session's lines: two ~500-cycle misses under
  // a hypervisor, ~30 cycles each when a burst's loads are in flight together):
  //   1. hash() every key and prefetch_index() its hash;
  //   2. prefetch_session() every hash: reads the index line of step 1, prefetches the session;
  //   3. find() every key with its hash.
  // find(key, hash(key), d) answers exactly as find(key, d); the prefetches are only hints.
  uint32_t hash(const FlowKey& key) const;
  void prefetch_index(uint32_t hash) const;
  void prefetch_session(uint32_t hash) const;
  uint32_t find(const FlowKey& key, uint32_t hash, Direction* direction) const;
  // Adds a session indexed by both keys, scheduled to expire at s.expires_ms. kNoSession when
  // full or when either key is already present.
  uint32_t insert(const Session& s);
  Session& at(uint32_t index);
  const Session& at(uint32_t index) const;
  // Re-arms the session's timer for `timeout_s` from `now_ms` (cheap: no rehash).
  void touch(uint32_t index, uint64_t now_ms, uint32_t timeout_s);
  void erase(uint32_t index);
  // Calls expired(index) for every session whose time has come (the callback decides and
  // usually erases), advancing the wheel up to now_ms. At most `budget` sessions per call.
  template <class Fn>
  uint32_t expire(uint64_t now_ms, uint32_t budget, Fn&& expired);
  // Visits every live session (index), for listing, flushing and resets; not on the fast path.
  template <class Fn>
  void for_each(Fn&& visit) const;
  // The same walk in pieces (sync snapshots): visits the live sessions in slots from `from` on,
  // at most `max_slots` slots, stopping after a session for which visit(index) returns false.
  // Returns the slot to continue from, kNoSession when the walk reached the end.
  template <class Fn>
  uint32_t visit_from(uint32_t from, uint32_t max_slots, Fn&& visit) const;

  // Bytes used per session at full capacity (session + index), for the benchmark.
  size_t bytes_per_session() const;
  // Where the session array lives: "transparent huge pages", "EAL hugepages" or "ordinary pages".
  const char* memory_backing() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint32_t next_expired(uint64_t now_ms);       // one due session or kNoSession
  uint32_t live_at(uint32_t slot) const;        // the slot's session or kNoSession
  uint32_t slots() const;
};

template <class Fn>
uint32_t SessionTable::expire(uint64_t now_ms, uint32_t budget, Fn&& expired) {
  uint32_t n = 0;
  for (uint32_t i; n < budget && (i = next_expired(now_ms)) != kNoSession; ++n) expired(i);
  return n;
}

template <class Fn>
void SessionTable::for_each(Fn&& visit) const {
  for (uint32_t slot = 0, end = slots(); slot < end; ++slot)
    if (uint32_t i = live_at(slot); i != kNoSession) visit(i);
}

template <class Fn>
uint32_t SessionTable::visit_from(uint32_t from, uint32_t max_slots, Fn&& visit) const {
  uint32_t end = slots(), stop = from + max_slots < from || from + max_slots > end ? end : from + max_slots;
  for (uint32_t slot = from; slot < stop; ++slot)
    if (uint32_t i = live_at(slot); i != kNoSession && !visit(i)) return slot + 1 < end ? slot + 1 : kNoSession;
  return stop < end ? stop : kNoSession;
}

// Local ports of one worker: for each local address, the ports of this worker's slice
// (owner_of_local_port(port) == worker) not held by a session. O(1) allocate and release.
class LocalPorts {
 public:
  LocalPorts(uint16_t worker, uint16_t workers);
  ~LocalPorts();
  // Takes a free port of `address` within [min, max] owned by this worker; 0 when exhausted.
  uint16_t allocate(const Address& address, uint16_t min, uint16_t max);
  // Marks a specific port as held (a synced session); false when it was already held.
  bool reserve(const Address& address, uint16_t port);
  void release(const Address& address, uint16_t port);
  uint32_t in_use(const Address& address) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace l4lb
