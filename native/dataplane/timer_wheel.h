// The session table's expiry timer: a hashed timing wheel threaded through the sessions'
// wheel_slot and the table's WheelLinks array, so it allocates nothing per session.
// Design and costs: timer_wheel.cc.
#pragma once

#include <cstdint>
#include <vector>

#include "sessions.h"

namespace l4lb {

// wheel_slot of a session that is on no wheel list (the session table's free sessions).
constexpr uint16_t kNotFiled = 0xffff;

class TimerWheel {
 public:
  static constexpr uint32_t kTickMs = 16;          // resolution: a session ends within one tick
  static constexpr uint32_t kSlots = 1u << 15;     // span: kSlots * kTickMs ≈ 524 s
  static constexpr uint32_t kRefileLimit = 4096;   // bound on one call's non-due work

  TimerWheel(Session* sessions, WheelLinks* links) : sessions_(sessions), links_(links), heads_(kSlots, kNoSession) {}

  // Files session `i` by its expires_ms. It must not be filed already.
  void schedule(uint32_t i);
  // Call after sessions[i].expires_ms changed; O(1), and relinks only when it moved earlier.
  void rescheduled(uint32_t i);
  // Takes session `i` off the wheel; afterwards its wheel_slot is kNotFiled.
  void cancel(uint32_t i);
  // One session whose expires_ms <= now_ms, or kNoSession when none is due (or this call's
  // refile work ran out; the next call resumes). The returned session is filed again one
  // timeout later, so a caller that neither erases nor touches it sees it again then.
  uint32_t next_due(uint64_t now_ms);

  uint32_t filed() const { return filed_; }

 private:
  void link(uint32_t i, uint64_t tick);
  void unlink(uint32_t i);
  uint64_t clamp(uint64_t tick) const;              // into [current_, current_ + kSlots)
  uint64_t tick_of_slot(uint32_t slot) const;       // the tick a slot stands for now

  Session* sessions_;
  WheelLinks* links_;             // by session index
  std::vector<uint32_t> heads_;   // per slot: first session or kNoSession
  uint64_t current_ = 0;          // every tick before this one has been processed
  uint32_t filed_ = 0;
};

}  // namespace l4lb
