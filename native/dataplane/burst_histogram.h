// How long a worker takes to handle one burst: a histogram of the durations of its busy polls
// (loop iterations that handled at least one frame), in nanoseconds. Fixed power-of-two
// buckets, so recording is a multiply (cycles → ns), a count-leading-zeros (the bucket) and two
// adds, with no branch beyond a clamp. Per worker, written only by its worker like the other
// counters (counters.h); the control thread reads it with plain loads.
//
// The bounds, 256 ns to 1 ms doubling, cover one frame on a fast server (a few hundred ns)
// to a full burst through af_packet on a small VM (tens to hundreds of µs); longer polls fall
// in the last bucket (+Inf).
#pragma once

#include <cstdint>

namespace l4lb {

struct BurstHistogram {
  static constexpr unsigned kBounds = 13;          // finite upper bounds; bucket kBounds is +Inf
  static constexpr unsigned kFirstBoundLog2 = 8;   // the first bound is 2^8 = 256 ns
  uint64_t counts[kBounds + 1] = {};   // per bucket, not cumulative: a duration counts in one
  uint64_t sum_ns = 0;
};

// Upper bound of bucket i < kBounds, inclusive (Prometheus `le`).
constexpr uint64_t burst_bound_ns(unsigned i) { return uint64_t(1) << (BurstHistogram::kFirstBoundLog2 + i); }

// The bucket of a duration: the first whose bound is ≥ ns, or kBounds (+Inf). For ns > 256,
// ceil(log2 ns) - 8 = bit width of (ns - 1) - 8; the subtraction saturates at 0 and the OR
// with 255 keeps every ns ≤ 256 in bucket 0 (and the clz argument non-zero).
inline unsigned burst_bucket(uint64_t ns) {
  uint64_t below = (ns - (ns != 0)) | ((uint64_t(1) << BurstHistogram::kFirstBoundLog2) - 1);
  unsigned bucket = 64 - __builtin_clzll(below) - BurstHistogram::kFirstBoundLog2;
  return bucket < BurstHistogram::kBounds ? bucket : BurstHistogram::kBounds;
}

// TSC cycles to ns in 32.32 fixed point, the factor computed once from the TSC frequency and
// rounded up, so that a whole number of ns in cycles converts exactly (below 2^32 cycles).
// A zero frequency (native tests drive workers without a clock) makes every duration 0 ns.
class CyclesToNs {
 public:
  explicit CyclesToNs(uint64_t tsc_hz)
      : factor_(tsc_hz ? uint64_t(((static_cast<unsigned __int128>(1000000000) << 32) + tsc_hz - 1) / tsc_hz) : 0) {}
  uint64_t operator()(uint64_t cycles) const {
    return uint64_t((static_cast<unsigned __int128>(cycles) * factor_) >> 32);
  }

 private:
  uint64_t factor_;
};

inline void record_burst(BurstHistogram& h, uint64_t ns) {
  ++h.counts[burst_bucket(ns)];
  h.sum_ns += ns;
}

}  // namespace l4lb
