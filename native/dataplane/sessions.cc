// The session table: a preallocated array of sessions, a free list, one open-addressing index
// over both directions' keys, and the timer wheel (timer_wheel.cc).
//
// Index. A power-of-two array of 8-byte slots {hash, entry}; entry = session << 1 | direction,
// or kEmpty. Linear probing: at most half the slots are ever used (the index has at least
// 4 × capacity slots for 2 × capacity keys), so a hit probes about 1.5 slots and a miss about
// 2.5, nearly always within one 64-byte line of 8 slots. The slot keeps the key's whole 32-bit
// hash: the probe compares it before it reads the Session, so a probe touches a Session only
// for a real match, except once in 2^(32 - log2 slots) (1 in 1024 at 1M sessions).
//
// Erase uses backward-shift deletion rather than tombstones: the later entries of the run are
// moved back into the hole where their probe path allows it. Lookups never wade through dead
// slots, and there is no rebuild to schedule, which a table that churns millions of sessions
// an hour would otherwise need over and over (and which would stall a worker).
//
// Hash: CRC32-C of the key's fields (two crc32 instructions), seeded per table at random so
// that a client cannot precompute keys that pile up in one run.
#include "sessions.h"

#include <rte_hash_crc.h>
#include <rte_prefetch.h>
#include <rte_random.h>

#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

#include "table_memory.h"
#include "timer_wheel.h"
#include "worker.h"

namespace l4lb {

namespace {

constexpr uint32_t kEmpty = 0xffffffff;
constexpr uint32_t kMaxCapacity = 1u << 24;

struct Slot {
  uint32_t hash;
  uint32_t entry;
};

uint32_t entry_of(uint32_t session, Direction d) { return session << 1 | static_cast<uint32_t>(d); }

uint32_t index_slots_for(uint32_t capacity) {
  uint32_t slots = 1;
  while (slots < 4 * capacity) slots <<= 1;
  return slots;
}

}  // namespace

struct SessionTable::Impl {
  explicit Impl(uint32_t capacity)
      : capacity(capacity),
        mask(index_slots_for(capacity) - 1),
        seed(static_cast<uint32_t>(rte_rand())),
        session_memory(sizeof(Session) * size_t(capacity)),
        index_memory(sizeof(Slot) * (size_t(mask) + 1)),
        link_memory(sizeof(WheelLinks) * size_t(capacity)),
        sessions(static_cast<Session*>(session_memory.get())),
        index(static_cast<Slot*>(index_memory.get())),
        links(static_cast<WheelLinks*>(link_memory.get())),
        wheel(sessions, links) {
    std::memset(index, 0xff, sizeof(Slot) * (size_t(mask) + 1));
    for (uint32_t i = 0; i < capacity; ++i) {
      Session* s = new (&sessions[i]) Session();
      s->wheel_slot = kNotFiled;
      new (&links[i]) WheelLinks{i + 1 < capacity ? i + 1 : kNoSession, kNoSession};
    }
  }

  // Five crc32 instructions, the same for both families.
  uint32_t hash(const FlowKey& k) const {
    const uint64_t rest = uint64_t(k.source_port) << 24 | uint64_t(k.destination_port) << 8 | k.protocol;
    uint32_t h = rte_hash_crc_8byte(k.source.high, seed);
    h = rte_hash_crc_8byte(k.source.low, h);
    h = rte_hash_crc_8byte(k.destination.high, h);
    h = rte_hash_crc_8byte(k.destination.low, h);
    return rte_hash_crc_8byte(rest, h);
  }

  const FlowKey& key_of(uint32_t entry) const {
    const Session& s = sessions[entry >> 1];
    return (entry & 1) ? s.outbound : s.inbound;
  }

  // The entry holding `key` (hash h), or kEmpty.
  uint32_t lookup(const FlowKey& key, uint32_t h) const {
    for (uint32_t pos = h & mask;; pos = (pos + 1) & mask) {
      const Slot slot = index[pos];
      if (slot.entry == kEmpty) return kEmpty;
      if (slot.hash == h && key_of(slot.entry) == key) return slot.entry;
    }
  }

  void add(uint32_t h, uint32_t entry) {
    uint32_t pos = h & mask;
    while (index[pos].entry != kEmpty) pos = (pos + 1) & mask;
    index[pos] = Slot{h, entry};
  }

  // Removes `entry` (whose key hashes to h) and closes the hole by backward shift: each later
  // entry of the run moves into the hole if the hole lies between its home slot and its slot.
  void remove(uint32_t h, uint32_t entry) {
    uint32_t hole = h & mask;
    while (index[hole].entry != entry) hole = (hole + 1) & mask;
    for (uint32_t pos = (hole + 1) & mask; index[pos].entry != kEmpty; pos = (pos + 1) & mask) {
      const uint32_t home = index[pos].hash & mask;
      if (((pos - home) & mask) >= ((pos - hole) & mask)) {
        index[hole] = index[pos];
        hole = pos;
      }
    }
    index[hole].entry = kEmpty;
  }

  const uint32_t capacity;
  const uint32_t mask;   // index slots - 1
  const uint32_t seed;
  TableMemory session_memory, index_memory, link_memory;   // huge pages where possible: table_memory.h
  Session* const sessions;
  Slot* const index;
  WheelLinks* const links;
  TimerWheel wheel;
  uint32_t size = 0;
  uint32_t free_head = 0;   // free sessions are chained through their links' next
};

SessionTable::SessionTable(uint32_t capacity) {
  if (capacity == 0 || capacity > kMaxCapacity)
    throw std::invalid_argument("session table capacity must be 1.." + std::to_string(kMaxCapacity));
  impl_ = std::make_unique<Impl>(capacity);
}

SessionTable::~SessionTable() = default;

uint32_t SessionTable::capacity() const { return impl_->capacity; }
uint32_t SessionTable::size() const { return impl_->size; }

// THE hot-path lookup. Cost: two crc32 instructions, then one index cache line (a 64-byte line
// holds 8 slots; a run crosses into a second line rarely), and the Session's lines only on a
// hash match, i.e. for the key itself. A hit costs two cache misses when cold, a miss one;
// the burst path (sessions.h) prefetches both, so they overlap across a burst.
uint32_t SessionTable::find(const FlowKey& key, Direction* direction) const {
  return find(key, impl_->hash(key), direction);
}

uint32_t SessionTable::find(const FlowKey& key, uint32_t hash, Direction* direction) const {
  const uint32_t entry = impl_->lookup(key, hash);
  if (entry == kEmpty) return kNoSession;
  if (direction) *direction = static_cast<Direction>(entry & 1);
  return entry >> 1;
}

uint32_t SessionTable::hash(const FlowKey& key) const { return impl_->hash(key); }

// Cost: one prefetch instruction; the load it starts is what find() would wait for first.
void SessionTable::prefetch_index(uint32_t hash) const { rte_prefetch0(&impl_->index[hash & impl_->mask]); }

// Cost: the index line (cached if prefetch_index() came early enough) and two prefetches. The
// first slot whose stored hash matches is nearly always the key's own. A Session is two
// whole lines of the 64-byte aligned array.
static_assert(sizeof(Session) == 2 * 64 && alignof(Session) == 64, "prefetch_session() fetches two lines");
void SessionTable::prefetch_session(uint32_t hash) const {
  const Impl& t = *impl_;
  for (uint32_t pos = hash & t.mask;; pos = (pos + 1) & t.mask) {
    const Slot slot = t.index[pos];
    if (slot.entry == kEmpty) return;
    if (slot.hash == hash) {
      const auto* first = reinterpret_cast<const char*>(&t.sessions[slot.entry >> 1]);
      rte_prefetch0(first);
      rte_prefetch0(first + 64);
      return;
    }
  }
}

// Cost: two lookups (both keys must be new), two probes for empty slots, one wheel link.
uint32_t SessionTable::insert(const Session& s) {
  Impl& t = *impl_;
  if (t.size == t.capacity || s.inbound == s.outbound) return kNoSession;
  const uint32_t h_in = t.hash(s.inbound), h_out = t.hash(s.outbound);
  if (t.lookup(s.inbound, h_in) != kEmpty || t.lookup(s.outbound, h_out) != kEmpty) return kNoSession;

  const uint32_t i = t.free_head;
  Session& stored = t.sessions[i];
  t.free_head = t.links[i].next;
  stored = s;
  t.links[i] = WheelLinks{};
  stored.wheel_slot = kNotFiled;
  t.add(h_in, entry_of(i, Direction::inbound));
  t.add(h_out, entry_of(i, Direction::outbound));
  t.wheel.schedule(i);
  ++t.size;
  return i;
}

Session& SessionTable::at(uint32_t index) { return impl_->sessions[index]; }
const Session& SessionTable::at(uint32_t index) const { return impl_->sessions[index]; }

// Per packet. Cost: two stores to the session (already in cache) and, unless the deadline
// moved earlier, one comparison (timer_wheel.cc explains the lazy relink).
void SessionTable::touch(uint32_t index, uint64_t now_ms, uint32_t timeout_s) {
  Session& s = impl_->sessions[index];
  s.timeout_s = timeout_s;
  s.expires_ms = now_ms + 1000ull * timeout_s;
  impl_->wheel.rescheduled(index);
}

void SessionTable::erase(uint32_t index) {
  Impl& t = *impl_;
  Session& s = t.sessions[index];
  if (s.wheel_slot == kNotFiled) return;   // already free
  t.wheel.cancel(index);
  t.remove(t.hash(s.inbound), entry_of(index, Direction::inbound));
  t.remove(t.hash(s.outbound), entry_of(index, Direction::outbound));
  t.links[index].next = t.free_head;
  t.free_head = index;
  --t.size;
}

const char* SessionTable::memory_backing() const { return backing_name(impl_->session_memory.backing()); }

size_t SessionTable::bytes_per_session() const {
  const Impl& t = *impl_;
  return ((sizeof(Session) + sizeof(WheelLinks)) * size_t(t.capacity) + sizeof(Slot) * (size_t(t.mask) + 1)) / t.capacity;
}

uint32_t SessionTable::next_expired(uint64_t now_ms) { return impl_->wheel.next_due(now_ms); }

// A live session is always on the wheel; a free one never is.
uint32_t SessionTable::live_at(uint32_t slot) const {
  return impl_->sessions[slot].wheel_slot != kNotFiled ? slot : kNoSession;
}

uint32_t SessionTable::slots() const { return impl_->capacity; }

std::unique_ptr<SessionTable> make_session_table(uint32_t capacity) {
  return std::make_unique<SessionTable>(capacity);
}

}  // namespace l4lb
