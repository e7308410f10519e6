// Next hops that are not the flow's peer itself (gateways, routes' next hops), interned per
// worker, so a session names the hop of each side in 4 bytes instead of a 16-byte address
// (sessions.h keeps a session in two cache lines). On-link peers, the common case towards
// real servers, need no entry at all (kDirectHop). Hops are few (a node's gateways and
// routers), so the entries a packet reads stay in cache. Owned by one worker, no locks.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "address.h"
#include "sessions.h"

namespace l4lb {

class NextHops {
 public:
  static constexpr uint32_t kCapacity = 4096;
  static constexpr uint32_t kFull = 0xfffffffe;   // hold() when every entry is taken

  NextHops() : entries_(kCapacity) {}

  // The name of `hop` for a side whose peer is `peer`: kDirectHop when they are the same,
  // else an entry held once more (kFull when none is left). Cost: a compare; for a gateway,
  // two more when it is the last one named (nearly always: clients come through one router),
  // else one hash lookup. New sessions only.
  uint32_t hold(const Address& peer, const Address& hop);
  // Lets go of a name hold() returned (kDirectHop and kFull included).
  void release(uint32_t name);
  // The address of an entry (not kDirectHop). Cost: one load from a small, hot array.
  const Address& address(uint32_t name) const { return entries_[name].address; }
  uint32_t in_use() const { return uint32_t(by_address_.size()); }

 private:
  struct Entry {
    Address address;
    uint32_t holders = 0;
  };
  std::vector<Entry> entries_;
  std::unordered_map<Address, uint32_t, AddressHash> by_address_;
  std::vector<uint32_t> free_;   // entries released and empty
  uint32_t next_unused_ = 0;     // entries never used start here
  uint32_t last_ = 0;            // the entry hold() named last (check that it is held)
};

}  // namespace l4lb
