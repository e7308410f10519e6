// Session expiry through SessionTable: on time, never early, touch, budgets, week-long
// timeouts and clock jumps.
#include <random>
#include <vector>

#include "check.h"
#include "sessions.h"

using namespace l4lb;

namespace {

constexpr uint64_t kStart = 5000000;   // an arbitrary worker clock, in ms
constexpr uint64_t kTick = 16;         // the wheel's resolution (timer_wheel.h)

Session session_for(uint32_t n, uint64_t expires_ms, uint32_t timeout_s) {
  Session s;
  s.inbound = FlowKey{Address::v4(0x0b000000 + n), Address::v4(0x0a640001), 40000, 443, 6};
  s.outbound = FlowKey{Address::v4(0x0a140002), Address::v4(0x0a0a0001), 443, uint16_t(1024 + n), 6};
  s.expires_ms = expires_ms;
  s.timeout_s = timeout_s;
  return s;
}

// Advances the clock from `from` to `to` in `step` ms, erasing what expires; returns the time
// each session expired at (0: still live).
std::vector<uint64_t> run_clock(SessionTable& table, uint32_t sessions, uint64_t from, uint64_t to,
                                uint64_t step, uint32_t budget = 1000) {
  std::vector<uint64_t> ended(sessions, 0);
  for (uint64_t now = from; now <= to; now += step)
    table.expire(now, budget, [&](uint32_t i) {
      ended[i] = now;
      table.erase(i);
    });
  return ended;
}

}  // namespace

TEST(timer_expires_at_the_right_time) {
  SessionTable table(16);
  const uint64_t deadline = kStart + 5000;
  const uint32_t i = table.insert(session_for(1, deadline, 5));
  const std::vector<uint64_t> ended = run_clock(table, 16, kStart, kStart + 10000, 1);
  CHECK(ended[i] >= deadline);
  CHECK(ended[i] <= deadline + kTick);
  CHECK_EQ(table.size(), 0u);
}

TEST(timer_touch_postpones) {
  SessionTable table(16);
  const uint32_t i = table.insert(session_for(1, kStart + 5000, 5));
  run_clock(table, 16, kStart, kStart + 3000, 1);
  table.touch(i, kStart + 3000, 5);
  CHECK_EQ(table.at(i).expires_ms, kStart + 8000);
  std::vector<uint64_t> ended = run_clock(table, 16, kStart + 3001, kStart + 7999, 1);
  CHECK_EQ(ended[i], 0u);
  CHECK_EQ(table.size(), 1u);
  ended = run_clock(table, 16, kStart + 8000, kStart + 9000, 1);
  CHECK(ended[i] >= kStart + 8000 && ended[i] <= kStart + 8000 + kTick);
}

TEST(timer_touch_to_a_shorter_timeout_expires_sooner) {
  SessionTable table(16);
  const uint32_t i = table.insert(session_for(1, kStart + 90000, 90));
  run_clock(table, 16, kStart, kStart + 1000, 5);
  table.touch(i, kStart + 1000, 7);   // ESTABLISHED → FIN_WAIT
  const std::vector<uint64_t> ended = run_clock(table, 16, kStart + 1005, kStart + 20000, 5);
  CHECK(ended[i] >= kStart + 8000 && ended[i] <= kStart + 8000 + kTick + 5);
}

TEST(timer_budget_limits_one_call) {
  SessionTable table(256);
  for (uint32_t n = 0; n < 100; ++n) table.insert(session_for(n, kStart + 1000, 1));
  const uint64_t now = kStart + 2000;
  auto erase = [&](uint32_t i) { table.erase(i); };
  CHECK_EQ(table.expire(now, 30, erase), 30u);
  CHECK_EQ(table.expire(now, 30, erase), 30u);
  CHECK_EQ(table.expire(now, 30, erase), 30u);
  CHECK_EQ(table.expire(now, 30, erase), 10u);
  CHECK_EQ(table.expire(now, 30, erase), 0u);
  CHECK_EQ(table.size(), 0u);
}

TEST(timer_kept_session_comes_back_one_timeout_later) {
  SessionTable table(16);
  const uint32_t i = table.insert(session_for(1, kStart + 1000, 2));
  uint32_t calls = 0;
  CHECK_EQ(table.expire(kStart + 1100, 10, [&](uint32_t) { ++calls; }), 1u);   // kept
  CHECK_EQ(table.expire(kStart + 1200, 10, [&](uint32_t) { ++calls; }), 0u);
  CHECK_EQ(table.expire(kStart + 3200, 10, [&](uint32_t) { ++calls; }), 1u);
  CHECK_EQ(calls, 2u);
  CHECK_EQ(table.size(), 1u);
  table.touch(i, kStart + 3200, 10);
  CHECK_EQ(table.expire(kStart + 13000, 10, [&](uint32_t) { ++calls; }), 0u);
  CHECK_EQ(table.expire(kStart + 13300, 10, [&](uint32_t j) { table.erase(j); }), 1u);
}

TEST(timer_long_timeouts_not_expired_early) {
  SessionTable table(16);
  const uint32_t day = 86400;
  const uint32_t week = table.insert(session_for(1, kStart + 7ull * day * 1000, 7 * day));
  const uint32_t three = table.insert(session_for(2, kStart + 3ull * day * 1000, 3 * day));
  const uint32_t hour = table.insert(session_for(3, kStart + 3600ull * 1000, 3600));
  const std::vector<uint64_t> ended = run_clock(table, 16, kStart, kStart + 8ull * day * 1000, 1000);
  CHECK(ended[hour] >= kStart + 3600ull * 1000 && ended[hour] <= kStart + 3601ull * 1000);
  CHECK(ended[three] >= kStart + 3ull * day * 1000 && ended[three] <= kStart + (3ull * day + 1) * 1000);
  CHECK(ended[week] >= kStart + 7ull * day * 1000 && ended[week] <= kStart + (7ull * day + 1) * 1000);
}

// More week-long sessions in one slot than one call refiles: the work spreads over calls and
// still nothing ends early or much late.
TEST(timer_many_parked_sessions) {
  constexpr uint32_t kSessions = 10000;
  const uint64_t deadline = kStart + 604800ull * 1000;
  SessionTable table(kSessions);
  for (uint32_t n = 0; n < kSessions; ++n) table.insert(session_for(n, deadline, 604800));
  const std::vector<uint64_t> ended = run_clock(table, kSessions, kStart, deadline + 10000, 1000, kSessions);
  uint32_t wrong = 0;
  for (uint64_t t : ended) wrong += t < deadline || t > deadline + 3000;
  CHECK_EQ(wrong, 0u);
  CHECK_EQ(table.size(), 0u);
}

TEST(timer_clock_jump_of_days) {
  SessionTable table(16);
  const uint32_t day = 86400;
  const uint32_t one = table.insert(session_for(1, kStart + 1ull * day * 1000, day));
  const uint32_t week = table.insert(session_for(2, kStart + 7ull * day * 1000, 7 * day));
  std::vector<uint32_t> expired;
  auto erase = [&](uint32_t i) {
    expired.push_back(i);
    table.erase(i);
  };
  table.expire(kStart + 3ull * day * 1000, 100, erase);
  CHECK_EQ(expired.size(), size_t(1));
  CHECK(!expired.empty() && expired[0] == one);
  table.expire(kStart + 7ull * day * 1000 - 1, 100, erase);
  CHECK_EQ(expired.size(), size_t(1));
  table.expire(kStart + 7ull * day * 1000 + kTick, 100, erase);
  CHECK_EQ(expired.size(), size_t(2));
  CHECK(expired.size() == 2 && expired[1] == week);
}

// Many sessions, random timeouts and touches: none ends early, none more than a tick and a
// clock step late, and every session that was due has ended.
TEST(timer_random_touches_never_early_never_lost) {
  constexpr uint32_t kSessions = 3000;
  constexpr uint64_t kStep = 100;
  SessionTable table(kSessions);
  std::mt19937 random(7);
  std::vector<bool> live(kSessions, true);
  for (uint32_t n = 0; n < kSessions; ++n)
    table.insert(session_for(n, kStart + 1000ull * (1 + random() % 900), 1));
  uint32_t early = 0, late = 0;
  for (uint64_t now = kStart; now < kStart + 2000000; now += kStep) {
    for (int k = 0; k < 20 && now < kStart + 1000000; ++k) {
      const uint32_t i = random() % kSessions;
      if (live[i]) table.touch(i, now, 1 + random() % 900);
    }
    table.expire(now, 100000, [&](uint32_t i) {
      const uint64_t due = table.at(i).expires_ms;
      early += now < due;
      late += now > due + kTick + kStep;
      live[i] = false;
      table.erase(i);
    });
  }
  CHECK_EQ(early, 0u);
  CHECK_EQ(late, 0u);
  CHECK_EQ(table.size(), 0u);
}
