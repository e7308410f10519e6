// Per-client new-connection rate limits (a service's clientRateLimit): a token bucket per
// client address (either family) and service, asked when a new session would open (flow.cc).
//
// Bounded memory: each worker has a fixed table of kBuckets (2^16) buckets of 32 bytes (2 MB),
// in sets of two that share one cache line, found by a hash of client and service seeded at
// random per table (a client cannot aim at one set). A client not in its set replaces the
// set's stalest bucket (the one checked least recently). Eviction only forgets: a forgotten
// client starts again with a full bucket. So an attacker rotating source addresses achieves at
// worst the eviction of other clients' buckets, each of which may then burst again sooner; it
// never gets a client refused who would not be, and memory never grows. Each of the
// attacker's addresses gets its own burst, as any per-address limit must allow.
//
// Workers: a client's flows spread over the workers (owner_of_client hashes address and port)
// and each worker keeps its own buckets, unshared (no atomics). Each worker allows a client
// connectionsPerSecond / workers and burst / workers, both rounded up. A client whose ports
// spread evenly gets about the configured rate and burst; one whose ports all land on one
// worker gets that worker's share only; at most it gets workers × the rounded-up shares
// (≤ rate + workers - 1 per second, ≤ burst + workers - 1 at once). With one worker it is exact.
//
// Arithmetic: integers on the worker's millisecond clock (Worker::now_ms); tokens are counted
// in thousandths, so a rate of r per second refills exactly r thousandths per millisecond.
#pragma once

#include <cstdint>
#include <memory>

#include "address.h"
#include "config.h"

namespace l4lb {

class ClientRates {
 public:
  static constexpr uint32_t kBuckets = 1 << 16;

  ClientRates();
  ~ClientRates();

  // Whether `client` may open one more connection to service `service_id` now, under `limit`
  // shared out over `workers`; takes a token if so. Cost: three crc32, one cache line (a miss
  // for a client not seen lately), two divisions and a few compares; never allocates.
  bool admit(const Address& client, uint32_t service_id, const ClientRateLimit& limit, uint16_t workers,
             uint64_t now_ms);

 private:
  struct Bucket {
    Address client;
    uint32_t key = 0;          // service id + 1; 0: empty
    uint32_t tokens = 0;       // thousandths of a connection
    uint64_t checked_ms = 0;   // when it was last refilled (and used)
  };
  struct alignas(64) Set {
    Bucket ways[2];
  };
  static_assert(sizeof(Set) == 64, "a set is one cache line");

  std::unique_ptr<Set[]> sets_;
  uint32_t seed_;
};

}  // namespace l4lb
