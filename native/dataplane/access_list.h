// A virtual service's allow and deny lists (accessControl, docs/protection.md), compiled once
// per snapshot into what a worker asks for each new flow: may this client open a session?
//
// The most specific entry holding the client decides; with none, the client is refused when
// the allow list has entries (of either family) and admitted otherwise. An IPv4 entry holds
// only IPv4 clients and an IPv6 entry only IPv6 clients.
//
// Structure: one open-addressing hash table of (network, length, family) → allow/deny, and
// per family the prefix lengths present, longest first. A lookup masks the client address to
// each present length in turn and probes the table once per length until one hits. Lists use
// few distinct lengths in practice (/32, /24, /16, /64, /48...), so a lookup is a few probes;
// the worst case is 33 probes for IPv4 and 129 for IPv6 (every length present). A table of
// 50,000 entries (24 bytes a slot, at most half full: ~3 MB) is beyond L2, so a probe is
// mostly a cache miss: native/bench's "IPv4 allow-list" row (49,999 /32s and one /15) measures
// 400-600 cycles more per new session, and the same cycles per established packet.
#pragma once

#include <cstdint>
#include <vector>

#include "address.h"

namespace l4lb {

enum class Access : uint8_t { admitted, denied, not_allowed };

class AccessList {
 public:
  AccessList();   // no entries (out of line: clang's sanitizer build left an inline one undefined)
  // Prefixes of either family, host bits cleared (the store refuses others). A prefix in both
  // lists (the store refuses that too) denies.
  AccessList(const std::vector<Prefix>& allow, const std::vector<Prefix>& deny);

  // No entries: every client is admitted without a lookup.
  bool empty() const { return slots_.empty(); }
  Access check(const Address& client) const;

 private:
  struct Entry {
    Address network;
    uint8_t length = 0;
    bool v4 = false;
    bool used = false;
    bool deny = false;
  };
  // The lengths of one family's entries, longest first, with the mask of each.
  struct Lengths {
    std::vector<uint8_t> lengths;
    std::vector<Address> masks;
  };

  static uint64_t hash(const Address& network, uint8_t length, bool v4);
  void insert(const Prefix& p, bool deny);
  const Entry* find(const Address& network, uint8_t length, bool v4) const;

  std::vector<Entry> slots_;   // a power of two, at most half used
  uint64_t slot_mask_ = 0;
  Lengths v4_, v6_;
  bool has_allow_ = false;
};

}  // namespace l4lb
