// TCP state tracking as the load balancer sees it (the table in tcp_state.cc).
#include <cstring>
#include <utility>
#include <vector>

#include "check.h"
#include "sessions.h"

using namespace l4lb;

namespace {

constexpr Direction in = Direction::inbound, out = Direction::outbound;

struct Step {
  Direction direction;
  uint8_t flags;
  TcpState expected;
};

// Feeds the segments from `start`; counts the steps that did not land where expected.
int mismatches(TcpState start, const std::vector<Step>& steps) {
  int wrong = 0;
  TcpState s = start;
  for (const Step& step : steps) {
    s = next_tcp_state(s, step.direction, step.flags);
    if (s != step.expected) {
      std::fprintf(stderr, "  got %s, expected %s\n", tcp_state_name(s), tcp_state_name(step.expected));
      ++wrong;
    }
  }
  return wrong;
}

}  // namespace

TEST(tcp_state_client_opens_and_closes) {
  CHECK_EQ(mismatches(TcpState::none, {{in, kSyn, TcpState::syn_recv},
                                       {out, kSyn | kAck, TcpState::syn_recv},
                                       {in, kAck, TcpState::established},
                                       {in, kAck | kPsh, TcpState::established},
                                       {out, kAck, TcpState::established},
                                       {in, kFin | kAck, TcpState::fin_wait},
                                       {out, kAck, TcpState::fin_wait},
                                       {out, kAck | kPsh, TcpState::fin_wait},
                                       {out, kFin | kAck, TcpState::last_ack},
                                       {in, kAck, TcpState::time_wait},
                                       {in, kAck, TcpState::time_wait}}),
           0);
}

TEST(tcp_state_server_closes_first) {
  CHECK_EQ(mismatches(TcpState::established, {{out, kFin | kAck, TcpState::close_wait},
                                              {in, kAck, TcpState::close_wait},
                                              {out, kFin | kAck, TcpState::close_wait},
                                              {in, kFin | kAck, TcpState::last_ack},
                                              {out, kAck, TcpState::time_wait}}),
           0);
}

TEST(tcp_state_simultaneous_close) {
  CHECK_EQ(mismatches(TcpState::established, {{in, kFin | kAck, TcpState::fin_wait},
                                              {out, kFin | kAck, TcpState::last_ack},
                                              {out, kAck, TcpState::time_wait},
                                              {in, kAck, TcpState::time_wait}}),
           0);
}

TEST(tcp_state_reset_closes_from_every_state) {
  for (int s = 0; s <= static_cast<int>(TcpState::close); ++s) {
    CHECK(next_tcp_state(TcpState(s), in, kRst) == TcpState::close);
    CHECK(next_tcp_state(TcpState(s), out, kRst | kAck) == TcpState::close);
  }
  CHECK_EQ(mismatches(TcpState::none, {{in, kSyn, TcpState::syn_recv},
                                       {out, kRst | kAck, TcpState::close},
                                       {in, kAck, TcpState::close}}),
           0);
}

TEST(tcp_state_client_reuses_the_tuple) {
  CHECK(next_tcp_state(TcpState::time_wait, in, kSyn) == TcpState::syn_recv);
  CHECK(next_tcp_state(TcpState::close, in, kSyn) == TcpState::syn_recv);
  CHECK(next_tcp_state(TcpState::time_wait, out, kSyn) == TcpState::time_wait);
  CHECK(next_tcp_state(TcpState::established, in, kSyn) == TcpState::established);
}

TEST(tcp_state_odd_segments) {
  CHECK(next_tcp_state(TcpState::established, in, kPsh) == TcpState::established);   // no event
  CHECK(next_tcp_state(TcpState::established, in, 0) == TcpState::established);
  CHECK(next_tcp_state(TcpState::none, in, kAck) == TcpState::none);
  CHECK(next_tcp_state(TcpState::syn_recv, in, kFin | kAck) == TcpState::fin_wait);
  CHECK(next_tcp_state(TcpState::syn_recv, out, kFin | kAck) == TcpState::close_wait);
  CHECK(next_tcp_state(TcpState::syn_recv, out, kAck) == TcpState::syn_recv);
  CHECK(next_tcp_state(TcpState::udp, in, kSyn) == TcpState::udp);
  CHECK(next_tcp_state(TcpState::udp, out, kRst) == TcpState::udp);
  // A SYN seen from the server first (never made by FullNAT, but kept symmetric).
  CHECK_EQ(mismatches(TcpState::none, {{out, kSyn, TcpState::syn_sent},
                                       {in, kSyn | kAck, TcpState::syn_sent},
                                       {out, kAck, TcpState::established}}),
           0);
}

TEST(tcp_state_timeouts_and_names) {
  Timeouts t;
  t.tcp_syn_sent = 1, t.tcp_syn_recv = 2, t.tcp_established = 3, t.tcp_fin_wait = 4;
  t.tcp_close_wait = 5, t.tcp_last_ack = 6, t.tcp_time_wait = 7, t.tcp_close = 8, t.udp = 9;
  const std::pair<TcpState, uint32_t> expected[] = {
      {TcpState::none, 2},      {TcpState::syn_sent, 1},  {TcpState::syn_recv, 2},
      {TcpState::established, 3}, {TcpState::fin_wait, 4}, {TcpState::close_wait, 5},
      {TcpState::last_ack, 6},  {TcpState::time_wait, 7}, {TcpState::close, 8},
      {TcpState::udp, 9}};
  for (auto& [state, seconds] : expected) CHECK_EQ(state_timeout_s(state, t), seconds);

  CHECK(std::strcmp(tcp_state_name(TcpState::established), "established") == 0);
  CHECK(std::strcmp(tcp_state_name(TcpState::time_wait), "time_wait") == 0);
  CHECK(std::strcmp(tcp_state_name(TcpState::udp), "udp") == 0);
  CHECK(std::strcmp(tcp_state_name(TcpState::none), "none") == 0);
}
