// A worker's neighbour table (ARP cache, and ND's for IPv6): next hop → MAC, plus a short queue of frames
// waiting for the answer when the next hop is not known yet. Owned by one worker, no locks,
// all memory allocated up front.
//
// Lifetime of an entry:
//   pending    created by a frame towards an unknown next hop; an ARP request (IPv6: a
//              neighbour solicitation, nd.cc) goes out at once and again every kRetryMs; up to
//              kQueueLength frames wait; after kGiveUpMs the queued frames are dropped and the
//              entry freed.
//   reachable  learnt from an ARP packet or a neighbour discovery message. After kReachableMs
//              it is stale: still used, but the next use asks again (at most once per
//              kRetryMs) to refresh it.
//
// Slots: open addressing over kSlots entries; an address lives within kProbe slots of its
// hash. Lookups look at all kProbe slots (a freed slot does not end the search), so freeing
// needs no tombstones. When the window is full, the least recently confirmed reachable entry
// gives way.
//
// Resolved hops: send_ip's small cache in front of the table, (next hop, port) → the finished
// Ethernet header, so a forwarded packet needs neither a probe of the table nor the snapshot's
// port. An entry holds only while it is fresh (fresh_until_ms: stale neighbours take the
// slow path, which re-asks) and while its generation is the table's. The generation moves on
// any change that could make an entry wrong: find_or_add (its caller writes the entry),
// remove, learning (l2.cc calls changed()) and a new snapshot (a port's MAC, a port gone).
#pragma once

#include <cstdint>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "config.h"
#include "snapshot.h"

namespace l4lb {

struct Neighbour {
  enum class State : uint8_t { free, pending, reachable };
  Address address;
  State state = State::free;
  uint8_t queued = 0;
  uint16_t port = kNoPort;       // where the frames wait to go
  MacAddress mac;
  uint64_t confirmed_ms = 0;     // reachable: when last learnt
  uint64_t requested_ms = 0;     // last ARP request sent
  uint64_t created_ms = 0;       // pending: first request
  static constexpr uint8_t kQueueLength = 16;
  rte_mbuf* queue[kQueueLength];
};

// 64 bytes, aligned: one line per lookup; the 16 of a worker are 16 lines every packet keeps warm.
struct alignas(64) ResolvedHop {
  Address next_hop;
  uint16_t port = kNoPort;
  uint8_t ethernet[14] = {};     // destination MAC, source MAC, type: the header as sent
  uint32_t generation = 0;       // the table's starts at 1: an unused entry never matches
  uint64_t fresh_until_ms = 0;   // the neighbour's confirmation + kReachableMs
};

class Neighbours {
 public:
  static constexpr uint32_t kSlots = 2048;
  static constexpr uint32_t kProbe = 16;
  static constexpr uint64_t kReachableMs = 5 * 60 * 1000;
  static constexpr uint64_t kRetryMs = 100;
  static constexpr uint64_t kGiveUpMs = 3000;

  // The entry for `address`, or null. Cost: one hash, up to kProbe compares.
  Neighbour* find(const Address& address);
  // The entry for `address`, creating a pending one when absent. Null when every slot of the
  // window holds a pending entry.
  Neighbour* find_or_add(const Address& address, uint64_t now_ms);
  // Frees an entry; its queue must be empty.
  void remove(Neighbour* n) {
    n->state = Neighbour::State::free;
    changed();
  }
  // For the timers: every slot in turn.
  Neighbour* slot(uint32_t i) { return &slots_[i]; }

  static constexpr uint32_t kResolvedHops = 16;
  // The one cache entry `next_hop` may occupy (its address and generation still to be checked).
  ResolvedHop& resolved(const Address& next_hop) { return resolved_[(next_hop.fold32() * 0x9e3779b1u) >> 28]; }  // 4 bits
  uint32_t generation() const { return generation_; }
  // Every resolved hop cached so far is void. Called on any change of an entry's state, MAC or
  // confirmation, and when the worker takes a new snapshot.
  void changed() { ++generation_; }

 private:
  static uint32_t home(const Address& address) { return (address.fold32() * 0x9e3779b1u) >> 21; }  // 11 bits: kSlots
  static_assert(kResolvedHops == 16, "resolved() takes 4 bits of the hash");
  ResolvedHop resolved_[kResolvedHops];
  uint32_t generation_ = 1;
  Neighbour slots_[kSlots];
};

// --- l2.cc: learning, shared by ARP and IPv6 neighbour discovery (nd.cc).
struct Worker;
// Records `address` at `mac` as reachable, creating the entry when `create` (else only a known
// or pending one is refreshed), and sends the frames that waited for it by `port`.
void learn(Worker& w, const Address& address, const rte_ether_addr& mac, uint16_t port, bool create);
// Passes a copy of a frame learnt from the wire to every other worker's inbox, where it comes
// back with from_wire false: learnt from, never answered.
void share_with_other_workers(Worker& w, rte_mbuf* m);

}  // namespace l4lb
