// The benchmark's results: a table per worker on stdout, the same numbers as JSON for the
// benchmark harness (test/), and the targets beside them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "memory_probe.h"
#include "phases.h"

namespace bench {

// Targets of the benchmark issue, per worker.
constexpr double kMaxCyclesPerPacket = 200;
constexpr double kMinRawRatio = 0.40;
constexpr double kMinNewSessionsPerSecond = 1e6;
constexpr double kMaxBytesPerSession = 256;

// Memory a worker holds for its sessions, per live session.
struct MemoryPerSession {
  double session = 0;       // the Session array
  double index = 0;         // the session table's index (both directions' keys)
  double opened = 0;        // what opening the sessions allocated besides (local port rings and bitmaps)
  double worker = 0;        // the rest of the worker: counters, neighbours, timer wheel, cursors
  double table() const { return session + index; }
  double total() const { return session + index + opened + worker; }
};

struct WorkerResult {
  uint16_t worker = 0;
  uint32_t sessions = 0;          // established when forwarding was measured
  Measured new_sessions, established, raw;
  Measured empty_polls;           // items: polls
  MemoryPerSession memory;
  std::vector<std::string> problems;

  double ratio(uint64_t tsc_hz) const {
    const double raw_rate = raw.per_second(tsc_hz);
    return raw_rate > 0 ? established.per_second(tsc_hz) / raw_rate : 0;
  }
};

struct RunInfo {
  uint16_t workers = 1;
  uint32_t sessions = 0;          // per worker, asked for
  uint64_t packets = 0;           // per worker, established phase and raw loop each
  uint64_t tsc_hz = 0;
  bool hugepages = false;
  uint32_t capacity = 0;          // of each worker's session table
  MissCost miss_cost;             // on a buffer the size of one session table
  uint64_t clock_cost = 0;        // cycles of reading the TSC, taken off each measured section
};

void print_report(const RunInfo& run, const std::vector<WorkerResult>& results);
// Throws std::runtime_error when the file cannot be written.
void write_json(const std::string& path, const RunInfo& run, const std::vector<WorkerResult>& results);
// Whether every worker met every target.
bool targets_met(const RunInfo& run, const std::vector<WorkerResult>& results);

}  // namespace bench
