// A worker's IPv4 neighbour table (ARP cache): next hop → MAC, plus a short queue of frames
// waiting for the answer when the next hop is not known yet. Owned by one worker, no locks,
// all memory allocated up front.
//
// Lifetime of an entry:
//   pending    created by a frame towards an unknown next hop; an ARP request goes out at
//              once and again every kRetryMs; up to kQueueLength frames wait; after
//              kGiveUpMs the queued frames are dropped and the entry freed.
//   reachable  learnt from an ARP packet. After kReachableMs it is stale: still used, but
//              the next use asks again (at most once per kRetryMs) to refresh it.
//
// Slots: open addressing over kSlots entries; an address lives within kProbe slots of its
// hash. Lookups look at all kProbe slots (a freed slot does not end the search), so freeing
// needs no tombstones. When the window is full, the least recently confirmed reachable entry
// gives way.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

#include "config.h"
#include "snapshot.h"

namespace l4lb {

struct Neighbour {
  enum class State : uint8_t { free, pending, reachable };
  Ipv4 address = 0;
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

class Neighbours {
 public:
  static constexpr uint32_t kSlots = 2048;
  static constexpr uint32_t kProbe = 16;
  static constexpr uint64_t kReachableMs = 5 * 60 * 1000;
  static constexpr uint64_t kRetryMs = 100;
  static constexpr uint64_t kGiveUpMs = 3000;

  // The entry for `address`, or null. Cost: one hash, up to kProbe compares.
  Neighbour* find(Ipv4 address);
  // The entry for `address`, creating a pending one when absent. Null when every slot of the
  // window holds a pending entry.
  Neighbour* find_or_add(Ipv4 address, uint64_t now_ms);
  // Frees an entry; its queue must be empty.
  void remove(Neighbour* n) { n->state = Neighbour::State::free; }
  // For the timers: every slot in turn.
  Neighbour* slot(uint32_t i) { return &slots_[i]; }

 private:
  static uint32_t home(Ipv4 address) { return (address * 0x9e3779b1u) >> 21; }  // 11 bits: kSlots
  Neighbour slots_[kSlots];
};

}  // namespace l4lb
