// Distribution and eligibility of every scheduler, and Maglev's spread and disruption.
#include <algorithm>
#include <cstdio>
#include <random>

#include "check.h"
#include "maglev.h"
#include "scheduler.h"

using namespace l4lb;

namespace {

std::vector<Backend> make_backends(const std::vector<uint32_t>& weights) {
  std::vector<Backend> backends;
  for (size_t i = 0; i < weights.size(); ++i) {
    Backend b;
    b.id = uint32_t(100 + i);
    b.address = Address::v4(0x0a000100 + uint32_t(i) + 1);  // 10.0.1.x
    b.port = 80;
    b.weight = weights[i];
    backends.push_back(b);
  }
  return backends;
}

// How many times each backend is picked over `picks` new flows from random clients.
std::vector<uint64_t> count_picks(SchedulerKind kind, const std::vector<Backend>& backends, size_t picks,
                                  const uint32_t* active = nullptr) {
  auto scheduler = Scheduler::build(kind, backends);
  SchedulerCursor cursor;
  std::mt19937_64 random(42);
  std::vector<uint64_t> counts(backends.size());
  for (size_t i = 0; i < picks; ++i) {
    FlowHint flow{Address::v4(uint32_t(random())), uint16_t(random())};
    int chosen = scheduler->pick(backends, cursor, flow, active);
    if (chosen >= 0) ++counts[chosen];
  }
  return counts;
}

const SchedulerKind kAllKinds[] = {SchedulerKind::rr, SchedulerKind::wrr, SchedulerKind::lc,
                                   SchedulerKind::wlc, SchedulerKind::sh,  SchedulerKind::mh};

}  // namespace

TEST(scheduler_rr_alternates_exactly) {
  auto backends = make_backends({1, 5, 1});
  auto rr = Scheduler::build(SchedulerKind::rr, backends);
  SchedulerCursor cursor;
  for (int i = 0; i < 9; ++i) CHECK_EQ(rr->pick(backends, cursor, {}, nullptr), i % 3);
}

TEST(scheduler_wrr_is_exact_and_smooth) {
  auto backends = make_backends({3, 1});
  auto wrr = Scheduler::build(SchedulerKind::wrr, backends);
  SchedulerCursor cursor;
  int counts[2] = {}, run = 0, longest_run = 0, last = -1;
  for (int i = 0; i < 400; ++i) {
    int chosen = wrr->pick(backends, cursor, {}, nullptr);
    CHECK(chosen == 0 || chosen == 1);
    if (chosen < 0) return;
    ++counts[chosen];
    run = chosen == last ? run + 1 : 1;
    last = chosen;
    longest_run = std::max(longest_run, run);
    if (i % 4 == 3) {  // every cycle of sum(weights) picks holds exactly 3 : 1
      CHECK_EQ(counts[0], 3 * (i + 1) / 4);
      CHECK_EQ(counts[1], (i + 1) / 4);
    }
  }
  CHECK(longest_run <= 3);  // never a burst of the heavy one beyond its own weight
}

TEST(scheduler_wrr_resizes_a_stale_cursor) {
  auto backends = make_backends({2, 1, 1});
  auto wrr = Scheduler::build(SchedulerKind::wrr, backends);
  SchedulerCursor cursor;
  cursor.credit.assign(1, 1000);  // left from a version with one backend
  cursor.next = 77;
  auto counts = std::vector<int>(3);
  for (int i = 0; i < 8; ++i) ++counts[wrr->pick(backends, cursor, {}, nullptr)];
  CHECK_EQ(cursor.credit.size(), size_t(3));
  CHECK_EQ(counts[0], 4);
  CHECK_EQ(counts[1], 2);
  CHECK_EQ(counts[2], 2);
}

TEST(scheduler_lc_picks_fewest_active) {
  auto backends = make_backends({1, 1, 1});
  std::vector<uint32_t> active(kMaxBackends);
  active[100] = 5, active[101] = 2, active[102] = 7;
  auto lc = Scheduler::build(SchedulerKind::lc, backends);
  SchedulerCursor cursor;
  CHECK_EQ(lc->pick(backends, cursor, {}, active.data()), 1);
  // Ties share: filling the active counts as picks happen spreads flows evenly.
  std::fill(active.begin(), active.end(), 0);
  std::vector<int> counts(3);
  for (int i = 0; i < 300; ++i) {
    int chosen = lc->pick(backends, cursor, {}, active.data());
    ++counts[chosen];
    ++active[backends[chosen].id];
  }
  CHECK_EQ(counts[0], 100);
  CHECK_EQ(counts[1], 100);
  CHECK_EQ(counts[2], 100);
  // Without counts every server ties: they take turns.
  CHECK(lc->pick(backends, cursor, {}, nullptr) != lc->pick(backends, cursor, {}, nullptr));
}

TEST(scheduler_wlc_weighs_active_sessions) {
  auto backends = make_backends({3, 1});
  std::vector<uint32_t> active(kMaxBackends);
  auto wlc = Scheduler::build(SchedulerKind::wlc, backends);
  SchedulerCursor cursor;
  active[100] = 5, active[101] = 2;  // 5/3 < 2/1
  CHECK_EQ(wlc->pick(backends, cursor, {}, active.data()), 0);
  active[100] = 7;                   // 7/3 > 2/1
  CHECK_EQ(wlc->pick(backends, cursor, {}, active.data()), 1);
  std::fill(active.begin(), active.end(), 0);
  std::vector<int> counts(2);
  for (int i = 0; i < 400; ++i) {
    int chosen = wlc->pick(backends, cursor, {}, active.data());
    ++counts[chosen];
    ++active[backends[chosen].id];
  }
  CHECK(std::abs(counts[0] - 300) <= 1);
  CHECK(std::abs(counts[1] - 100) <= 1);
}

TEST(scheduler_sh_keeps_a_client_on_one_server) {
  auto backends = make_backends({1, 1, 1, 1});
  auto sh = Scheduler::build(SchedulerKind::sh, backends);
  SchedulerCursor cursor;
  std::mt19937 random(7);
  for (int i = 0; i < 1000; ++i) {
    Address client = Address::v4(random());
    int first = sh->pick(backends, cursor, {client, 1000}, nullptr);
    CHECK(first >= 0 && first < 4);
    CHECK_EQ(sh->pick(backends, cursor, {client, 2000}, nullptr), first);
  }
  auto weighted = make_backends({2, 1});
  auto counts = count_picks(SchedulerKind::sh, weighted, 300000);
  double ratio = double(counts[0]) / double(counts[1]);
  CHECK(ratio > 1.9 && ratio < 2.1);
}

TEST(scheduler_mh_spreads_evenly) {
  auto backends = make_backends(std::vector<uint32_t>(10, 1));
  auto counts = count_picks(SchedulerKind::mh, backends, 1000000);
  auto table = build_maglev_table(backends, kMaglevTableSize);
  std::vector<uint32_t> slots(10);
  for (int32_t entry : table) ++slots[entry];
  auto [least, most] = std::minmax_element(counts.begin(), counts.end());
  auto [fewest_slots, most_slots] = std::minmax_element(slots.begin(), slots.end());
  std::printf("  mh spread over 10 backends, 1M flows: %.2f%% .. %.2f%% (ideal 10%%); table slots %u .. %u\n",
              *least / 1e4, *most / 1e4, *fewest_slots, *most_slots);
  CHECK(*least > 97000 && *most < 103000);
}

TEST(scheduler_mh_honours_weights) {
  auto counts = count_picks(SchedulerKind::mh, make_backends({2, 1}), 1000000);
  double ratio = double(counts[0]) / double(counts[1]);
  std::printf("  mh weight 2:1 -> %.3f:1\n", ratio);
  CHECK(ratio > 1.9 && ratio < 2.1);
}

TEST(scheduler_mh_disrupts_little_when_a_server_goes) {
  auto before = make_backends(std::vector<uint32_t>(10, 1));
  auto after = before;
  after.erase(after.begin() + 3);
  std::reverse(after.begin(), after.end());  // config order must not matter
  auto mh_before = Scheduler::build(SchedulerKind::mh, before);
  auto mh_after = Scheduler::build(SchedulerKind::mh, after);
  SchedulerCursor cursor;
  std::mt19937_64 random(1);
  uint64_t unaffected = 0, moved = 0;
  for (int i = 0; i < 1000000; ++i) {
    FlowHint flow{Address::v4(uint32_t(random())), uint16_t(random())};
    const Backend& was = before[mh_before->pick(before, cursor, flow, nullptr)];
    const Backend& now = after[mh_after->pick(after, cursor, flow, nullptr)];
    CHECK(now.address != before[3].address);
    if (was.address == before[3].address) continue;
    ++unaffected;
    if (now.address != was.address) ++moved;
  }
  double moved_fraction = double(moved) / double(unaffected);
  std::printf("  mh: 1 of 10 servers removed, %.2f%% of the other flows moved\n", 100 * moved_fraction);
  CHECK(moved_fraction < 0.05);
}

TEST(scheduler_mh_table_is_independent_of_config_order) {
  auto backends = make_backends({1, 2, 3, 1, 1});
  auto reversed = backends;
  std::reverse(reversed.begin(), reversed.end());
  auto table = build_maglev_table(backends, kMaglevTableSize);
  auto other = build_maglev_table(reversed, kMaglevTableSize);
  size_t differing = 0;
  for (size_t i = 0; i < table.size(); ++i)
    if (backends[table[i]].address != reversed[other[i]].address) ++differing;
  CHECK_EQ(differing, size_t(0));
}

TEST(scheduler_never_picks_drained_or_disabled) {
  auto backends = make_backends({1, 0, 1, 1});
  backends[2].enabled = false;
  std::vector<uint32_t> active(kMaxBackends);
  active[100] = 1000;  // the only eligible one is also the busiest
  for (SchedulerKind kind : kAllKinds) {
    auto counts = count_picks(kind, backends, 2000, active.data());
    CHECK_EQ(counts[1], uint64_t(0));
    CHECK_EQ(counts[2], uint64_t(0));
    CHECK_EQ(counts[0] + counts[3], uint64_t(2000));
  }
}

TEST(scheduler_returns_minus_one_without_eligible_backends) {
  auto drained = make_backends({0, 0});
  auto disabled = make_backends({1});
  disabled[0].enabled = false;
  std::vector<Backend> none;
  for (SchedulerKind kind : kAllKinds) {
    for (const auto* backends : {&drained, &disabled, &none}) {
      auto scheduler = Scheduler::build(kind, *backends);
      SchedulerCursor cursor;
      CHECK_EQ(scheduler->pick(*backends, cursor, {Address::v4(0x01020304), 5}, nullptr), -1);
    }
  }
}

TEST(scheduler_never_picks_an_unhealthy_server) {
  auto backends = make_backends({1, 1, 1});
  backends[1].healthy = false;
  for (SchedulerKind kind : kAllKinds) {
    auto counts = count_picks(kind, backends, 3000);
    CHECK_EQ(counts[1], uint64_t(0));
    CHECK_EQ(counts[0] + counts[2], uint64_t(3000));
  }
}

TEST(scheduler_mh_steps_over_a_down_server_and_moves_no_other_flow) {
  auto healthy = make_backends(std::vector<uint32_t>(10, 1));
  auto down = healthy;
  down[3].healthy = false;
  auto mh = Scheduler::build(SchedulerKind::mh, healthy);   // one table for both: health is not in it
  SchedulerCursor cursor;
  std::mt19937_64 random(7);
  std::vector<uint64_t> moved_to(10);
  uint64_t other_flows_moved = 0;
  for (int i = 0; i < 200000; ++i) {
    FlowHint flow{Address::v4(uint32_t(random())), uint16_t(random())};
    int was = mh->pick(healthy, cursor, flow, nullptr);
    int now = mh->pick(down, cursor, flow, nullptr);
    CHECK(now >= 0 && now != 3);
    CHECK_EQ(mh->pick(down, cursor, flow, nullptr), now);   // the same flow, the same choice
    if (was == 3) ++moved_to[now];
    else if (now != was) ++other_flows_moved;
  }
  CHECK_EQ(other_flows_moved, uint64_t(0));
  uint64_t total = 0;
  for (uint64_t n : moved_to) total += n;
  auto [least, most] = std::minmax_element(moved_to.begin() + 4, moved_to.end());
  std::printf("  mh: flows of 1 down server of 10 spread %.1f%% .. %.1f%% over the others\n", 100.0 * *least / total,
              100.0 * *most / total);
  for (size_t b = 0; b < 10; ++b) CHECK(b == 3 || moved_to[b] > total / 30);   // every other server takes a share

  for (Backend& b : down) b.healthy = false;
  CHECK_EQ(mh->pick(down, cursor, {Address::v4(0x01020304), 5}, nullptr), -1);
}
