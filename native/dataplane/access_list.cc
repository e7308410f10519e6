#include "access_list.h"

#include <bitset>

namespace l4lb {

namespace {

// The lengths set in `present`, longest first, and their masks in `family`'s space.
void list_lengths(const std::bitset<129>& present, bool v4, std::vector<uint8_t>& lengths, std::vector<Address>& masks) {
  for (int length = 128; length >= 0; --length) {
    if (!present[length]) continue;
    lengths.push_back(uint8_t(length));
    masks.push_back(Prefix{v4 ? Address::v4(0) : Address(), uint8_t(length)}.mask());
  }
}

}  // namespace

AccessList::AccessList() = default;

AccessList::AccessList(const std::vector<Prefix>& allow, const std::vector<Prefix>& deny) {
  const size_t entries = allow.size() + deny.size();
  if (entries == 0) return;
  size_t size = 8;
  while (size < entries * 2) size *= 2;
  slots_.resize(size);
  slot_mask_ = size - 1;
  std::bitset<129> v4_present, v6_present;
  for (const Prefix& p : allow) insert(p, false);
  for (const Prefix& p : deny) insert(p, true);   // after allow: an equal prefix denies
  for (const Prefix& p : allow) (p.address.is_v4() ? v4_present : v6_present).set(p.length);
  for (const Prefix& p : deny) (p.address.is_v4() ? v4_present : v6_present).set(p.length);
  list_lengths(v4_present, true, v4_.lengths, v4_.masks);
  list_lengths(v6_present, false, v6_.lengths, v6_.masks);
  has_allow_ = !allow.empty();
}

// Every bit of the key reaches the slot index: IPv4 networks differ in one word only, /32s
// of one subnet in its last bits.
uint64_t AccessList::hash(const Address& network, uint8_t length, bool v4) {
  uint64_t x = network.high * 0x9e3779b97f4a7c15ull ^ network.low ^ (uint64_t(length) << 1 | v4) * 0xc2b2ae3d27d4eb4full;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return x;
}

void AccessList::insert(const Prefix& p, bool deny) {
  const Prefix n = p.network();
  const bool v4 = n.address.is_v4();
  for (uint64_t i = hash(n.address, n.length, v4);; ++i) {
    Entry& e = slots_[i & slot_mask_];
    if (!e.used) e = Entry{n.address, n.length, v4, true, deny};
    else if (e.network != n.address || e.length != n.length || e.v4 != v4) continue;
    e.deny |= deny;
    return;
  }
}

const AccessList::Entry* AccessList::find(const Address& network, uint8_t length, bool v4) const {
  for (uint64_t i = hash(network, length, v4);; ++i) {
    const Entry& e = slots_[i & slot_mask_];
    if (!e.used) return nullptr;   // at most half the slots are used: a probe always ends
    if (e.network == network && e.length == length && e.v4 == v4) return &e;
  }
}

Access AccessList::check(const Address& client) const {
  const bool v4 = client.is_v4();
  const Lengths& family = v4 ? v4_ : v6_;
  for (size_t i = 0; i < family.lengths.size(); ++i) {
    Address network;
    network.high = client.high & family.masks[i].high;
    network.low = client.low & family.masks[i].low;
    if (const Entry* e = find(network, family.lengths[i], v4)) return e->deny ? Access::denied : Access::admitted;
  }
  return has_allow_ ? Access::not_allowed : Access::admitted;
}

}  // namespace l4lb
