// Token buckets of new connections per client: see rate_limit.h.
#include "rate_limit.h"

#include <rte_hash_crc.h>
#include <rte_random.h>

#include <algorithm>

namespace l4lb {

namespace {

constexpr uint32_t kSets = ClientRates::kBuckets / 2;
constexpr uint64_t kUnit = 1000;               // thousandths of a token per connection
constexpr uint64_t kMaxElapsed = 1ull << 32;   // ms; bounds the refill product (rate ≤ 2^32)

}  // namespace

ClientRates::ClientRates() : sets_(new Set[kSets]()), seed_(static_cast<uint32_t>(rte_rand())) {}

ClientRates::~ClientRates() = default;

bool ClientRates::admit(const Address& client, uint32_t service_id, const ClientRateLimit& limit, uint16_t workers,
                        uint64_t now_ms) {
  const uint64_t rate = (uint64_t(limit.connections_per_second) + workers - 1) / workers;   // thousandths per ms
  const uint64_t capacity = (uint64_t(limit.burst) + workers - 1) / workers * kUnit;
  const uint32_t key = service_id + 1;
  uint32_t h = rte_hash_crc_8byte(client.high, seed_);
  h = rte_hash_crc_8byte(client.low, h);
  Set& set = sets_[rte_hash_crc_4byte(key, h) & (kSets - 1)];

  Bucket* bucket = nullptr;
  for (Bucket& way : set.ways)
    if (way.key == key && way.client == client) bucket = &way;
  if (bucket) {
    const uint64_t elapsed = std::min(now_ms - bucket->checked_ms, kMaxElapsed);
    bucket->tokens = uint32_t(std::min(bucket->tokens + elapsed * rate, capacity));
  } else {   // new here, or forgotten: the stalest way (an empty one first) starts it full
    bucket = set.ways[0].checked_ms <= set.ways[1].checked_ms ? &set.ways[0] : &set.ways[1];
    bucket->client = client;
    bucket->key = key;
    bucket->tokens = uint32_t(capacity);
  }
  bucket->checked_ms = now_ms;
  if (bucket->tokens < kUnit) return false;
  bucket->tokens -= uint32_t(kUnit);
  return true;
}

}  // namespace l4lb
