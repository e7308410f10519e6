// Session expiry: one hashed timing wheel, lazily rescheduled.
//
// The problem. Every worker holds up to millions of sessions, each with an idle timeout
// between 1 s (a configured minimum) and 604800 s (a week), and every forwarded packet pushes
// its session's deadline forward. The per-packet part must cost next to nothing; expiry must
// cost in proportion to what actually expires; and nothing may end before its deadline.
//
// The wheel. Time is cut into ticks of kTickMs (16 ms) and the wheel has kSlots (32768) slots,
// one per tick, so it spans about 524 s: every established TCP session (90 s by default) and
// UDP flow (300 s) fits within one turn. Each slot heads a doubly linked list threaded
// through the table's WheelLinks (one per session, beside the sessions), so filing and
// unfiling are O(1) and need no memory. `current_` is the first tick not yet processed; a session is filed in
// one of the ticks [current_, current_ + kSlots), so a slot number names exactly one tick,
// and wheel_slot (the slot) is all a session needs to remember.
//
// Deadlines beyond the span (a week-long timeout) are parked in the farthest slot. When the
// wheel reaches a parked session it is not due; it is filed again, at most one span further.
// A week-long idle session is therefore visited once per 524 s (about 1150 times a week), each
// visit O(1) — cheaper and simpler than a second wheel level, and unlike a "rounds" counter
// in every slot, a slot never holds sessions that are merely waiting to be skipped.
//
// Lazy rescheduling. When the new deadline is not before the tick the session is filed in,
// touch() only stores it (expires_ms); that is the common case: a packet extends the deadline.
// When the wheel reaches that tick it finds the deadline in the future and files the session
// again, by its current deadline. An active flow is thus relinked about once per timeout
// instead of on every packet, and the packet path writes one session field instead of the
// links of three sessions (three more cache lines). A deadline that moves earlier (ESTABLISHED →
// FIN_WAIT, 90 s → 7 s) is relinked at once, so it is not expired late either.
//
// Never early, at most one tick late: a session is handed out only when its expires_ms has
// passed, checked in milliseconds; and it is always filed no later than its deadline's tick,
// so it is handed out by the first call after that tick has passed.
//
// Catching up. If expire is not called for a long time (a stalled worker, a test jumping the
// clock by days), whole turns of the wheel hold nothing new: it skips to the last turn before
// now and processes at most two turns. One call does at most kRefileLimit units of non-due
// work (refiling) and then returns "nothing due"; the next call resumes where it stopped, so
// a burst of refiling never stalls the packet loop.
#include "timer_wheel.h"

#include <algorithm>

namespace l4lb {

namespace {
constexpr uint64_t kMask = TimerWheel::kSlots - 1;
}

uint64_t TimerWheel::clamp(uint64_t tick) const {
  return std::min(std::max(tick, current_), current_ + kSlots - 1);
}

uint64_t TimerWheel::tick_of_slot(uint32_t slot) const {
  return current_ + ((slot - current_) & kMask);
}

void TimerWheel::link(uint32_t i, uint64_t tick) {
  WheelLinks& l = links_[i];
  const uint32_t slot = static_cast<uint32_t>(tick & kMask);
  sessions_[i].wheel_slot = uint16_t(slot);
  l.prev = kNoSession;
  l.next = heads_[slot];
  if (l.next != kNoSession) links_[l.next].prev = i;
  heads_[slot] = i;
  ++filed_;
}

void TimerWheel::unlink(uint32_t i) {
  WheelLinks& l = links_[i];
  if (l.prev == kNoSession)
    heads_[sessions_[i].wheel_slot] = l.next;
  else
    links_[l.prev].next = l.next;
  if (l.next != kNoSession) links_[l.next].prev = l.prev;
  sessions_[i].wheel_slot = kNotFiled;
  l.next = l.prev = kNoSession;
  --filed_;
}

void TimerWheel::schedule(uint32_t i) { link(i, clamp(sessions_[i].expires_ms / kTickMs)); }

// Cost: one comparison in the common case (deadline moved later); otherwise an unlink and a
// link, touching the neighbours' cache lines.
void TimerWheel::rescheduled(uint32_t i) {
  const Session& s = sessions_[i];
  const uint64_t tick = s.expires_ms / kTickMs;
  if (s.wheel_slot == kNotFiled) {
    link(i, clamp(tick));
  } else if (tick < tick_of_slot(s.wheel_slot)) {
    unlink(i);
    link(i, clamp(tick));
  }
}

void TimerWheel::cancel(uint32_t i) {
  if (sessions_[i].wheel_slot != kNotFiled) unlink(i);
}

uint32_t TimerWheel::next_due(uint64_t now_ms) {
  const uint64_t now_tick = now_ms / kTickMs;
  if (filed_ == 0) {
    current_ = std::max(current_, now_tick);
    return kNoSession;
  }
  if (now_tick > current_ && now_tick - current_ >= 2 * uint64_t(kSlots))
    current_ += ((now_tick - current_) / kSlots - 1) * kSlots;

  // Only whole past ticks are processed: every session filed in one has a deadline before
  // now_ms, or has been touched since and is refiled by its new deadline.
  uint32_t work = 0;
  for (; current_ < now_tick; ++current_) {
    uint32_t& head = heads_[current_ & kMask];
    while (head != kNoSession) {
      if (++work > kRefileLimit) return kNoSession;
      const uint32_t i = head;
      const Session& s = sessions_[i];
      unlink(i);
      if (s.expires_ms <= now_ms) {
        const uint64_t retry_ms = now_ms + 1000ull * std::max<uint32_t>(s.timeout_s, 1);
        link(i, clamp(retry_ms / kTickMs));
        return i;
      }
      // The deadline is at least one tick ahead (it is after now_ms), so this never refiles
      // into the slot being emptied.
      link(i, clamp(s.expires_ms / kTickMs));
    }
  }
  return kNoSession;
}

}  // namespace l4lb
