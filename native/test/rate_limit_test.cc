// clientRateLimit: the token bucket per client and service (burst, refusal, refill on the
// worker's clock, per-worker shares), its bounded table, and new flows refused and counted.
#include <malloc.h>

#include "check.h"
#include "lab.h"
#include "rate_limit.h"
#include "sessions.h"

using namespace l4lb;
using namespace lab;

namespace {

const ClientRateLimit kTwoPerSecondBurstFour{2, 4};

int admitted(ClientRates& rates, const Address& client, uint32_t service, int tries, uint64_t now_ms,
             uint16_t workers = 1) {
  int n = 0;
  for (int i = 0; i < tries; ++i) n += rates.admit(client, service, kTwoPerSecondBurstFour, workers, now_ms);
  return n;
}

}  // namespace

TEST(rate_limit_burst_then_refusal_then_refill_by_the_clock) {
  ClientRates rates;
  CHECK_EQ(admitted(rates, kClient, 0, 10, 1000), 4);   // the burst, then refusals
  CHECK_EQ(admitted(rates, kClient, 0, 1, 1499), 0);     // 0.998 of a token
  CHECK_EQ(admitted(rates, kClient, 0, 1, 1500), 1);     // 2 per second: one every 500 ms
  CHECK_EQ(admitted(rates, kClient, 0, 1, 1500), 0);
  CHECK_EQ(admitted(rates, kClient, 0, 10, 60'000), 4);  // refilled up to the burst, no more
}

TEST(rate_limit_each_worker_takes_its_share_rounded_up) {
  ClientRates rates;
  // 3 workers: ceil(4/3) = 2 at once, ceil(2/3) = 1 per second.
  CHECK_EQ(admitted(rates, kClient, 0, 10, 1000, 3), 2);
  CHECK_EQ(admitted(rates, kClient, 0, 1, 1999, 3), 0);
  CHECK_EQ(admitted(rates, kClient, 0, 1, 2000, 3), 1);
}

TEST(rate_limit_keeps_clients_and_services_apart_in_both_families) {
  ClientRates rates;
  const Address a = packets::ip6("2001:db8::1"), b = packets::ip6("2001:db8::2"), other = packets::ip6("2001:db8:ffff::1");
  CHECK_EQ(admitted(rates, a, 2, 10, 1000), 4);
  CHECK_EQ(admitted(rates, b, 2, 10, 1000), 4);        // differs in the last bit only
  CHECK_EQ(admitted(rates, a, 3, 10, 1000), 4);        // the same client, another service
  CHECK_EQ(admitted(rates, kClient, 2, 10, 1000), 4);  // IPv4
  CHECK_EQ(admitted(rates, other, 2, 10, 1000), 4);
  CHECK_EQ(admitted(rates, a, 2, 1, 1000), 0);         // a's bucket is still empty
}

TEST(rate_limit_table_never_grows_and_eviction_only_forgets) {
  ClientRates rates;
  CHECK_EQ(admitted(rates, kClient, 0, 10, 1000), 4);
  const size_t heap_before = mallinfo2().uordblks;
  // Sixteen times as many clients as buckets, each new one starting with a full bucket.
  uint32_t refused = 0;
  for (uint32_t i = 0; i < 16 * ClientRates::kBuckets; ++i)
    refused += !rates.admit(Address::v4(0x0b000000 + i), 0, kTwoPerSecondBurstFour, 1, 2000 + i / 1024);
  CHECK_EQ(refused, 0u);
  CHECK_EQ(mallinfo2().uordblks, heap_before);
  // kClient's bucket was evicted: it starts again with a full one (never stricter).
  CHECK_EQ(admitted(rates, kClient, 0, 10, 3000), 4);
}

TEST(rate_limit_refuses_new_flows_and_counts_them) {
  Settings settings;
  settings.client_rate_limit = kTwoPerSecondBurstFour;
  Lab lab(1, 1024, settings);
  lab.seed_neighbours();
  Worker& w = lab.worker();
  for (uint16_t port = 40000; port < 40006; ++port) client_port().inject(packets::tcp(from_client(port), kSyn, 1, 0));
  lab.poll();
  CHECK_EQ(sent_frames(server_port()).size(), size_t(4));
  CHECK_EQ(w.counters->services[kTcpService].rate_limited, uint64_t(2));
  CHECK_EQ(lab.drops(Drop::rate_limited), uint64_t(2));
  CHECK_EQ(w.sessions->size(), 4u);
  // A retransmitted SYN of a refused flow gets through once a token came back.
  lab.advance(500);
  client_port().inject(packets::tcp(from_client(40005), kSyn, 1, 0));
  lab.poll();
  CHECK_EQ(sent_frames(server_port()).size(), size_t(1));

  // An IPv6 client of the IPv6 service has a bucket of its own.
  for (uint16_t port = 40000; port < 40006; ++port) client_port().inject(packets::tcp(from_client6(port), kSyn, 1, 0));
  lab.poll();
  CHECK_EQ(sent_frames(server_port()).size(), size_t(4));
  CHECK_EQ(w.counters->services[kTcp6Service].rate_limited, uint64_t(2));
  client_port().clear();
}
