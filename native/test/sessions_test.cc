// Session table: the index in both directions, refusals, erase, probe chains under churn
// (against a std::unordered_map model), iteration and memory per session.
#include <cstdio>
#include <random>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "check.h"
#include "sessions.h"

using namespace l4lb;

namespace {

const Address kVip = Address::v4(0x0a640001), kLocal = Address::v4(0x0a0a0001);
constexpr uint32_t kServer = 0x0a140002;

// A session for client number n: client 10.0.x.y:(n % 50000 + 1024) → VIP:80, and back from
// the server to the local port n % 60000 + 1024.
Session session_for(uint32_t n) {
  Session s;
  s.inbound = FlowKey{Address::v4(0x0b000000 + n / 50000), kVip, uint16_t(n % 50000 + 1024), 80, 6};
  s.outbound = FlowKey{Address::v4(kServer + n / 60000), kLocal, 8080, uint16_t(n % 60000 + 1024), 6};
  s.expires_ms = 1000000;
  s.timeout_s = 90;
  return s;
}

uint64_t key_code(const FlowKey& k) {
  return uint64_t(k.source.fold32()) << 32 ^ uint64_t(k.destination.fold32()) << 7 ^ uint64_t(k.source_port) << 16 ^
         k.destination_port ^ uint64_t(k.protocol) << 60;
}

}  // namespace

TEST(sessions_insert_find_both_directions) {
  SessionTable table(1024);
  Session s = session_for(7);
  s.service_id = 3;
  const uint32_t i = table.insert(s);
  CHECK(i != kNoSession);
  CHECK_EQ(table.size(), 1u);

  Direction d = Direction::outbound;
  CHECK_EQ(table.find(s.inbound, &d), i);
  CHECK(d == Direction::inbound);
  CHECK_EQ(table.find(s.outbound, &d), i);
  CHECK(d == Direction::outbound);
  CHECK_EQ(table.find(session_for(8).inbound, &d), kNoSession);
  CHECK_EQ(table.find(s.inbound, nullptr), i);
  CHECK_EQ(table.at(i).service_id, 3u);

  FlowKey other_protocol = s.inbound;
  other_protocol.protocol = 17;
  CHECK_EQ(table.find(other_protocol, &d), kNoSession);
}

TEST(sessions_duplicate_keys_refused) {
  SessionTable table(64);
  const Session s = session_for(1);
  CHECK(table.insert(s) != kNoSession);
  CHECK_EQ(table.insert(s), kNoSession);

  Session same_inbound = session_for(2);
  same_inbound.inbound = s.inbound;
  CHECK_EQ(table.insert(same_inbound), kNoSession);
  Session same_outbound = session_for(3);
  same_outbound.outbound = s.outbound;
  CHECK_EQ(table.insert(same_outbound), kNoSession);
  Session one_key_twice = session_for(4);
  one_key_twice.outbound = one_key_twice.inbound;
  CHECK_EQ(table.insert(one_key_twice), kNoSession);
  CHECK_EQ(table.size(), 1u);
  CHECK(table.find(session_for(2).outbound, nullptr) == kNoSession);
}

TEST(sessions_full_table_refused) {
  SessionTable table(16);
  std::vector<uint32_t> held;
  for (uint32_t n = 0; n < 16; ++n) held.push_back(table.insert(session_for(n)));
  for (uint32_t i : held) CHECK(i != kNoSession);
  CHECK_EQ(table.insert(session_for(100)), kNoSession);
  CHECK_EQ(table.size(), 16u);
  table.erase(held[5]);
  CHECK(table.insert(session_for(100)) != kNoSession);
  CHECK_EQ(table.insert(session_for(101)), kNoSession);
  for (uint32_t n = 0; n < 16; ++n)
    if (n != 5) CHECK_EQ(table.find(session_for(n).outbound, nullptr), held[n]);
}

TEST(sessions_erase_then_find) {
  SessionTable table(128);
  const Session a = session_for(1), b = session_for(2);
  const uint32_t ia = table.insert(a), ib = table.insert(b);
  table.erase(ia);
  CHECK_EQ(table.find(a.inbound, nullptr), kNoSession);
  CHECK_EQ(table.find(a.outbound, nullptr), kNoSession);
  CHECK_EQ(table.find(b.inbound, nullptr), ib);
  CHECK_EQ(table.size(), 1u);
  table.erase(ia);   // twice: harmless
  CHECK_EQ(table.size(), 1u);
  CHECK(table.insert(a) != kNoSession);
  CHECK_EQ(table.size(), 2u);
}

// 200k random inserts, erases and lookups on a nearly full small table, so runs are long and
// wrap around the index end; every answer must match the model.
TEST(sessions_random_ops_match_model) {
  constexpr uint32_t kCapacity = 2048, kUniverse = 6000;
  SessionTable table(kCapacity);
  std::unordered_map<uint64_t, std::pair<uint32_t, Direction>> model;   // key → session, direction
  std::vector<uint32_t> live;   // session indexes
  std::vector<uint32_t> number_of(kCapacity, 0);
  std::mt19937 random(12345);
  uint32_t mismatches = 0;

  for (int op = 0; op < 200000; ++op) {
    const uint32_t roll = random() % 100;
    if (roll < 45) {
      const uint32_t n = random() % kUniverse;
      const Session s = session_for(n);
      const bool present = model.count(key_code(s.inbound)) || model.count(key_code(s.outbound));
      const uint32_t i = table.insert(s);
      if (present || live.size() == kCapacity) {
        mismatches += i != kNoSession;
      } else if (i == kNoSession) {
        ++mismatches;
      } else {
        model[key_code(s.inbound)] = {i, Direction::inbound};
        model[key_code(s.outbound)] = {i, Direction::outbound};
        live.push_back(i);
        number_of[i] = n;
      }
    } else if (roll < 85 && !live.empty()) {
      const size_t pick = random() % live.size();
      const uint32_t i = live[pick];
      const Session s = session_for(number_of[i]);
      table.erase(i);
      model.erase(key_code(s.inbound));
      model.erase(key_code(s.outbound));
      live[pick] = live.back();
      live.pop_back();
    } else {
      const Session s = session_for(random() % kUniverse);
      for (const FlowKey& key : {s.inbound, s.outbound}) {
        Direction d;
        const uint32_t found = table.find(key, &d);
        auto it = model.find(key_code(key));
        if (it == model.end())
          mismatches += found != kNoSession;
        else
          mismatches += found != it->second.first || d != it->second.second;
      }
    }
  }
  CHECK_EQ(mismatches, 0u);
  CHECK_EQ(table.size(), uint32_t(live.size()));
  for (auto& [code, where] : model) {
    const Session& s = table.at(where.first);
    const FlowKey& key = where.second == Direction::inbound ? s.inbound : s.outbound;
    CHECK_EQ(key_code(key), code);
    CHECK_EQ(table.find(key, nullptr), where.first);
  }
}

TEST(sessions_for_each_visits_live_sessions) {
  SessionTable table(64);
  std::vector<uint32_t> held;
  for (uint32_t n = 0; n < 10; ++n) held.push_back(table.insert(session_for(n)));
  table.erase(held[2]);
  table.erase(held[7]);
  table.erase(held[9]);
  uint32_t visited = 0;
  table.for_each([&](uint32_t i) {
    ++visited;
    CHECK(i != held[2] && i != held[7] && i != held[9]);
  });
  CHECK_EQ(visited, 7u);

  table.for_each([&](uint32_t i) { table.erase(i); });   // flush while iterating
  CHECK_EQ(table.size(), 0u);
  for (uint32_t n = 0; n < 10; ++n) CHECK_EQ(table.find(session_for(n).inbound, nullptr), kNoSession);
}

TEST(sessions_capacity_is_checked) {
  bool refused = false;
  try {
    SessionTable table(0);
  } catch (const std::invalid_argument&) {
    refused = true;
  }
  CHECK(refused);
  SessionTable one(1);
  CHECK(one.insert(session_for(1)) != kNoSession);
  CHECK_EQ(one.insert(session_for(2)), kNoSession);
}

TEST(sessions_bytes_per_session) {
  SessionTable table(1u << 20);
  std::printf("     sizeof(Session) = %zu, bytes per session at 1M = %zu\n", sizeof(Session),
              table.bytes_per_session());
  CHECK(table.bytes_per_session() <= 256);
  CHECK_EQ(table.capacity(), 1u << 20);
  const uint32_t i = table.insert(session_for(1));
  CHECK_EQ(table.find(session_for(1).outbound, nullptr), i);
}

// The burst API (hash, prefetches, find with the hash) answers exactly as find(), hits and
// misses, in both directions, on a table with long runs and after erasures.
TEST(sessions_burst_lookup_matches_find) {
  SessionTable table(512);
  std::vector<uint32_t> held;
  for (uint32_t n = 0; n < 512; ++n) held.push_back(table.insert(session_for(n)));
  for (uint32_t n = 0; n < 512; n += 3) table.erase(held[n]);
  uint32_t mismatches = 0, hits = 0;
  for (uint32_t n = 0; n < 1024; ++n) {
    const Session s = session_for(n);
    for (const FlowKey& key : {s.inbound, s.outbound}) {
      const uint32_t h = table.hash(key);
      CHECK_EQ(h, table.hash(key));
      table.prefetch_index(h);
      table.prefetch_session(h);
      Direction plain = Direction::inbound, burst = Direction::outbound;
      const uint32_t expected = table.find(key, &plain), found = table.find(key, h, &burst);
      mismatches += found != expected || (found != kNoSession && burst != plain);
      hits += found != kNoSession;
    }
  }
  CHECK_EQ(mismatches, 0u);
  CHECK_EQ(hits, 2u * (512 - 171));
}
