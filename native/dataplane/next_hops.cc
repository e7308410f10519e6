// Interned next hops; next_hops.h says why.
#include "next_hops.h"

namespace l4lb {

uint32_t NextHops::hold(const Address& peer, const Address& hop) {
  if (hop == peer) return kDirectHop;
  Entry& last = entries_[last_];
  if (last.holders > 0 && last.address == hop) {
    ++last.holders;
    return last_;
  }
  auto found = by_address_.find(hop);
  if (found != by_address_.end()) {
    ++entries_[found->second].holders;
    return last_ = found->second;
  }
  uint32_t name;
  if (!free_.empty()) {
    name = free_.back();
    free_.pop_back();
  } else if (next_unused_ < kCapacity) {
    name = next_unused_++;
  } else {
    return kFull;
  }
  entries_[name] = Entry{hop, 1};
  by_address_.emplace(hop, name);
  return last_ = name;
}

void NextHops::release(uint32_t name) {
  if (name >= kCapacity || --entries_[name].holders > 0) return;
  by_address_.erase(entries_[name].address);
  free_.push_back(name);
}

}  // namespace l4lb
