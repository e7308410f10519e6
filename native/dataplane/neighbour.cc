// Neighbour table lookups; the ARP protocol around it is in l2.cc.
#include "neighbour.h"

#include "worker.h"

namespace l4lb {

Neighbour* Neighbours::find(const Address& address) {
  for (uint32_t i = 0, h = home(address); i < kProbe; ++i) {
    Neighbour* n = &slots_[(h + i) % kSlots];
    if (n->state != Neighbour::State::free && n->address == address) return n;
  }
  return nullptr;
}

Neighbour* Neighbours::find_or_add(const Address& address, uint64_t now_ms) {
  changed();   // the caller may rewrite what it gets: no resolved hop may outlive that
  if (Neighbour* n = find(address)) return n;
  Neighbour* victim = nullptr;
  for (uint32_t i = 0, h = home(address); i < kProbe; ++i) {
    Neighbour* n = &slots_[(h + i) % kSlots];
    if (n->state == Neighbour::State::free) {
      victim = n;
      break;
    }
    if (n->state == Neighbour::State::reachable && (!victim || n->confirmed_ms < victim->confirmed_ms)) victim = n;
  }
  if (!victim) return nullptr;
  victim->address = address;
  victim->state = Neighbour::State::pending;
  victim->queued = 0;
  victim->port = kNoPort;
  victim->requested_ms = 0;
  victim->created_ms = now_ms;
  return victim;
}

std::unique_ptr<Neighbours> make_neighbours() { return std::make_unique<Neighbours>(); }

}  // namespace l4lb
