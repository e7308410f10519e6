// The benchmark's results: a table per worker on stdout, the same numbers as JSON for the
// benchmark harness (test/), and the targets beside them. The IPv4 figures keep the
// lines and keys they had before IPv6; the other plans' figures follow them, with their ratio
// to IPv4's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "memory_probe.h"
#include "phases.h"

namespace bench {

// Targets of the benchmark issue, per worker, for its IPv4 figures.
constexpr double kMaxCyclesPerPacket = 200;
constexpr double kMinRawRatio = 0.40;
constexpr double kMinNewSessionsPerSecond = 1e6;
constexpr double kMaxBytesPerSession = 256;

// Memory a worker holds for its sessions, per live session.
struct MemoryPerSession {
  double session = 0;       // the Session array and its timer-wheel links beside it
  double index = 0;         // the session table's index (both directions' keys)
  double opened = 0;        // what opening the sessions allocated besides (local port rings and bitmaps)
  double worker = 0;        // the rest of the worker: counters, neighbours, timer wheel, cursors
  double table() const { return session + index; }
  double total() const { return session + index + opened + worker; }
};

// One plan's figures on a worker (plan.h), each measured on a worker of its own with the same
// session and packet counts, one plan after the other.
struct PlanResult {
  const Plan* plan = nullptr;
  uint32_t sessions = 0;          // established when forwarding was measured
  Measured new_sessions, established;
  MemoryPerSession memory;
  std::vector<std::string> problems;
};

struct WorkerResult {
  uint16_t worker = 0;
  std::vector<PlanResult> plans;  // as plans() orders them: IPv4, whose figures the targets judge, first
  Measured raw;                   // of IPv4 frames (the loop reads no header)
  Measured empty_polls;           // items: polls

  const PlanResult& ipv4() const { return plans.front(); }
  double ratio(const PlanResult& p, uint64_t tsc_hz) const {
    const double raw_rate = raw.per_second(tsc_hz);
    return raw_rate > 0 ? p.established.per_second(tsc_hz) / raw_rate : 0;
  }
};

struct RunInfo {
  uint16_t workers = 1;
  uint32_t sessions = 0;          // per worker and plan, asked for
  uint64_t packets = 0;           // per worker, each plan's established phase and the raw loop each
  uint64_t tsc_hz = 0;
  bool hugepages = false;
  uint32_t capacity = 0;          // of each worker's session table
  MissCost miss_cost;             // on a buffer the size of one session table
  uint64_t clock_cost = 0;        // cycles of reading the TSC, taken off each measured section
};

void print_report(const RunInfo& run, const std::vector<WorkerResult>& results);
// Throws std::runtime_error when the file cannot be written.
void write_json(const std::string& path, const RunInfo& run, const std::vector<WorkerResult>& results);
// Whether every worker met every target with IPv4 and ran every plan without a problem.
bool targets_met(const RunInfo& run, const std::vector<WorkerResult>& results);

}  // namespace bench
