// Maglev consistent hashing (Eisenbud et al., "Maglev: A Fast and Reliable Software Network
// Load Balancer", NSDI 2016), used by the `mh` scheduler.
//
// Every eligible backend derives a permutation of the table's slots from two hashes of its
// identity (offset, skip); backends then take turns claiming their next preferred free slot
// until the table is full. Heavier backends take turns more often, so they own more slots.
// The identity is the backend's address:port and the turn order is sorted by it, so every
// node that has the same backends builds the same table, whatever their order in the config.
// Removing one backend mostly frees only its own slots: other flows keep their server.
#pragma once

#include <cstdint>
#include <vector>

#include "snapshot.h"

namespace l4lb {

// A stateless 64-bit mixer (the SplitMix64 finalizer): every input bit affects every output bit.
inline uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// Maps a 64-bit hash onto [0, size) by one multiply (no division on the fast path).
inline uint32_t reduce_to(uint64_t hash, uint32_t size) {
  return uint32_t(((hash >> 32) * uint64_t(size)) >> 32);
}

// Where a flow from this client address and port lands; fixed seed, the same on every node.
inline uint64_t flow_hash(const Address& address, uint16_t port) {
  return mix64((uint64_t(address.fold32()) << 16 | port) ^ 0x6d6167c3a5f1b2e9ULL);
}

// Whether a backend has a share of the Maglev table: health is left out, so a health
// transition changes no table (the mh scheduler steps over a down backend when it picks).
inline bool in_maglev_table(const Backend& b) { return b.enabled && b.weight > 0; }

// Whether a backend may take new sessions now.
inline bool takes_new_sessions(const Backend& b) { return in_maglev_table(b) && b.healthy; }

// The lookup table: each of `size` (prime) entries holds an index into `backends`. Only
// eligible backends (in_maglev_table) appear; empty when there is none.
// Cost: O(size × log size) expected time on the control thread, `size` × 4 bytes.
std::vector<int32_t> build_maglev_table(const std::vector<Backend>& backends, uint32_t size);

}  // namespace l4lb
