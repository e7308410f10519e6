// Printing the results of report.h.
#include "report.h"

#include <cstdio>
#include <memory>
#include <stdexcept>

namespace bench {

namespace {

// 1000000 → "1,000,000".
std::string grouped(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

struct Verdicts {
  bool cycles, ratio, new_sessions, memory;
  bool all() const { return cycles && ratio && new_sessions && memory; }
};

Verdicts verdicts(const RunInfo& run, const WorkerResult& r) {
  const PlanResult& v4 = r.ipv4();
  return Verdicts{v4.established.items > 0 && v4.established.cycles_per_item() <= kMaxCyclesPerPacket,
                  r.ratio(v4, run.tsc_hz) >= kMinRawRatio,
                  v4.new_sessions.per_second(run.tsc_hz) >= kMinNewSessionsPerSecond,
                  v4.memory.total() <= kMaxBytesPerSession};
}

const char* verdict(bool met) { return met ? "met" : "MISSED"; }

// The figures each plan is compared by, as columns of the table and keys of its JSON ratios.
struct Column {
  const char* heading;
  const char* key;
  int width, decimals;
  double (*value)(const PlanResult&, uint64_t tsc_hz);
};

const Column kColumns[] = {
    {"new M/s", "new_sessions_per_second", 9, 2,
     [](const PlanResult& p, uint64_t hz) { return p.new_sessions.per_second(hz) / 1e6; }},
    {"cycles/session", "cycles_per_new_session", 16, 0,
     [](const PlanResult& p, uint64_t) { return p.new_sessions.cycles_per_item(); }},
    {"Mpps", "established_per_second", 8, 2,
     [](const PlanResult& p, uint64_t hz) { return p.established.per_second(hz) / 1e6; }},
    {"cycles/pkt", "cycles_per_packet", 12, 0, [](const PlanResult& p, uint64_t) { return p.established.cycles_per_item(); }},
    {"bytes/session", "bytes_per_session", 15, 0, [](const PlanResult& p, uint64_t) { return p.memory.total(); }},
};

// A plan's figure over IPv4's: above 1 is more cycles, bytes or sessions per second.
double over_ipv4(const Column& c, const WorkerResult& r, const PlanResult& p, uint64_t tsc_hz) {
  const double base = c.value(r.ipv4(), tsc_hz);
  return base > 0 ? c.value(p, tsc_hz) / base : 0;
}

// Every plan beside IPv4: its figures, then each other plan's over IPv4's.
void print_plan_table(const RunInfo& run, const WorkerResult& r) {
  std::printf("  %-22s %10s", "plans (plan.h)", "sessions");
  for (const Column& c : kColumns) std::printf("%*s", c.width, c.heading);
  for (const PlanResult& p : r.plans) {
    std::printf("\n    %-20s %10s", p.plan->name.c_str(), grouped(p.sessions).c_str());
    for (const Column& c : kColumns) std::printf("%*.*f", c.width, c.decimals, c.value(p, run.tsc_hz));
  }
  for (const PlanResult& p : r.plans) {
    if (&p == &r.ipv4()) continue;
    std::printf("\n    %-20s %10s", (p.plan->name + " / " + r.ipv4().plan->name).c_str(), "");
    for (const Column& c : kColumns) std::printf("%*.2f", c.width, over_ipv4(c, r, p, run.tsc_hz));
  }
  std::printf("\n");
}

void print_measured(std::FILE* out, const char* name, const Measured& m, uint64_t tsc_hz) {
  std::fprintf(out, "\"%s\": {\"items\": %llu, \"cycles\": %llu, \"per_second\": %.0f, \"cycles_per_item\": %.1f}",
               name, static_cast<unsigned long long>(m.items), static_cast<unsigned long long>(m.cycles),
               m.per_second(tsc_hz), m.cycles_per_item());
}

void print_memory(std::FILE* out, const MemoryPerSession& m) {
  std::fprintf(out, "\"bytes_per_session\": {\"total\": %.1f, \"session\": %.1f, \"index\": %.1f, "
                    "\"local_ports\": %.1f, \"worker_tables\": %.1f}",
               m.total(), m.session, m.index, m.opened, m.worker);
}

// JSON strings here are our own messages; escape what JSON forbids anyway.
std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  return out + "\"";
}

void print_problems(std::FILE* out, const std::vector<std::string>& problems) {
  std::fprintf(out, "\"problems\": [");
  for (size_t p = 0; p < problems.size(); ++p) std::fprintf(out, "%s%s", p ? ", " : "", json_string(problems[p]).c_str());
  std::fprintf(out, "]");
}

// A plan other than IPv4, under its key beside the IPv4 figures: the same figures and their
// ratios to IPv4's.
void write_plan_json(std::FILE* out, const RunInfo& run, const WorkerResult& r, const PlanResult& p) {
  std::fprintf(out, ",\n     \"%s\": {\"sessions\": %u,\n       ", p.plan->key.c_str(), p.sessions);
  print_measured(out, "established", p.established, run.tsc_hz);
  std::fprintf(out, ",\n       \"ratio\": %.3f,\n       ", r.ratio(p, run.tsc_hz));
  print_measured(out, "new_sessions", p.new_sessions, run.tsc_hz);
  std::fprintf(out, ",\n       ");
  print_memory(out, p.memory);
  std::fprintf(out, ",\n       \"over_ipv4\": {");
  for (const Column& c : kColumns)
    std::fprintf(out, "%s\"%s\": %.3f", &c == kColumns ? "" : ", ", c.key, over_ipv4(c, r, p, run.tsc_hz));
  std::fprintf(out, "},\n       ");
  print_problems(out, p.problems);
  std::fprintf(out, "}");
}

}  // namespace

void print_report(const RunInfo& run, const std::vector<WorkerResult>& results) {
  std::printf("l4lb native benchmark: %u worker%s, net_ring ports, %u-byte TCP frames (%u over IPv6), bursts of %u, "
              "TSC %.2f GHz, %s\n",
              run.workers, run.workers == 1 ? "" : "s", kFrameLengthV4 + 4u, kFrameLengthV6 + 4u,
              unsigned(l4lb::Worker::kBurst), double(run.tsc_hz) / 1e9,
              run.hugepages ? "hugepages" : "no hugepages");
  std::printf("measured: the worker's poll_once() (or the raw loop's rx/tx bursts) only, less %llu cycles of TSC reads "
              "each; frames are written outside\n",
              static_cast<unsigned long long>(run.clock_cost));
  if (run.miss_cost.bytes)
    std::printf("memory: a random load in %.0f MB costs %.0f cycles, or %.0f each with %u in flight\n",
                double(run.miss_cost.bytes) / (1 << 20), run.miss_cost.dependent, run.miss_cost.overlapped, kChains);
  for (const WorkerResult& r : results) {
    const PlanResult& v4 = r.ipv4();
    const MemoryPerSession& mem = v4.memory;
    std::printf("\nworker %u\n", r.worker);
    std::printf("  established forwarding  %s sessions  %.2f Mpps  %.0f cycles/pkt   raw loop %.2f Mpps %.0f cycles/pkt   "
                "ratio %.2f\n",
                grouped(v4.sessions).c_str(), v4.established.per_second(run.tsc_hz) / 1e6, v4.established.cycles_per_item(),
                r.raw.per_second(run.tsc_hz) / 1e6, r.raw.cycles_per_item(), r.ratio(v4, run.tsc_hz));
    std::printf("  new sessions            %.2f M/s  %.0f cycles/session\n", v4.new_sessions.per_second(run.tsc_hz) / 1e6,
                v4.new_sessions.cycles_per_item());
    std::printf("  empty poll              %.0f cycles per poll_once() that receives nothing (median)\n",
                r.empty_polls.cycles_per_item());
    if (run.miss_cost.dependent > 0)
      std::printf("  in cache misses         a forwarded packet costs %.1f dependent random loads, a new session %.1f\n",
                  v4.established.cycles_per_item() / run.miss_cost.dependent,
                  v4.new_sessions.cycles_per_item() / run.miss_cost.dependent);
    std::printf("  memory                  %.0f bytes/session (session %.0f + index %.1f + local ports %.1f + "
                "worker tables %.1f)\n",
                mem.total(), mem.session, mem.index, mem.opened, mem.worker);
    const Verdicts v = verdicts(run, r);
    std::printf("  targets                 <= %.0f cycles/pkt %s; >= %.0f%% of raw %s; >= %.0f M new/s %s; "
                "<= %.0f bytes/session %s\n",
                kMaxCyclesPerPacket, verdict(v.cycles), kMinRawRatio * 100, verdict(v.ratio),
                kMinNewSessionsPerSecond / 1e6, verdict(v.new_sessions), kMaxBytesPerSession, verdict(v.memory));
    print_plan_table(run, r);
    for (const PlanResult& p : r.plans)
      for (const std::string& problem : p.problems)
        std::printf("  problem%s: %s\n", &p == &v4 ? "" : (" (" + p.plan->name + ")").c_str(), problem.c_str());
  }
  std::fflush(stdout);
}

void write_json(const std::string& path, const RunInfo& run, const std::vector<WorkerResult>& results) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "w"), std::fclose);
  if (!file) throw std::runtime_error("cannot write " + path);
  std::FILE* out = file.get();
  std::fprintf(out, "{\n  \"benchmark\": \"l4lb-native\",\n  \"ports\": \"net_ring\",\n  \"frame_bytes\": %u,\n",
               kFrameLengthV4 + 4u);
  std::fprintf(out, "  \"frame_bytes_ipv6\": %u,\n", kFrameLengthV6 + 4u);
  std::fprintf(out, "  \"workers\": %u,\n  \"sessions_per_worker\": %u,\n  \"packets_per_worker\": %llu,\n", run.workers,
               run.sessions, static_cast<unsigned long long>(run.packets));
  std::fprintf(out, "  \"clock_cost_cycles\": %llu,\n", static_cast<unsigned long long>(run.clock_cost));
  std::fprintf(out, "  \"session_table_capacity\": %u,\n  \"tsc_hz\": %llu,\n  \"hugepages\": %s,\n", run.capacity,
               static_cast<unsigned long long>(run.tsc_hz), run.hugepages ? "true" : "false");
  std::fprintf(out, "  \"memory_probe\": {\"bytes\": %zu, \"dependent_load_cycles\": %.1f, "
                    "\"overlapped_load_cycles\": %.1f, \"in_flight\": %u},\n",
               run.miss_cost.bytes, run.miss_cost.dependent, run.miss_cost.overlapped, kChains);
  std::fprintf(out, "  \"targets\": {\"max_cycles_per_packet\": %.0f, \"min_raw_ratio\": %.2f, "
                    "\"min_new_sessions_per_second\": %.0f, \"max_bytes_per_session\": %.0f},\n",
               kMaxCyclesPerPacket, kMinRawRatio, kMinNewSessionsPerSecond, kMaxBytesPerSession);
  std::fprintf(out, "  \"results\": [");
  for (size_t i = 0; i < results.size(); ++i) {
    const WorkerResult& r = results[i];
    const PlanResult& v4 = r.ipv4();
    const Verdicts v = verdicts(run, r);
    std::fprintf(out, "%s\n    {\"worker\": %u, \"sessions\": %u,\n     ", i ? "," : "", r.worker, v4.sessions);
    print_measured(out, "established", v4.established, run.tsc_hz);
    std::fprintf(out, ",\n     ");
    print_measured(out, "raw_loop", r.raw, run.tsc_hz);
    std::fprintf(out, ",\n     \"ratio\": %.3f,\n     ", r.ratio(v4, run.tsc_hz));
    print_measured(out, "new_sessions", v4.new_sessions, run.tsc_hz);
    std::fprintf(out, ",\n     ");
    print_measured(out, "empty_polls", r.empty_polls, run.tsc_hz);
    const double miss = run.miss_cost.dependent > 0 ? run.miss_cost.dependent : 1;
    std::fprintf(out, ",\n     \"in_dependent_misses\": {\"per_packet\": %.2f, \"per_new_session\": %.2f}",
                 v4.established.cycles_per_item() / miss, v4.new_sessions.cycles_per_item() / miss);
    std::fprintf(out, ",\n     ");
    print_memory(out, v4.memory);
    std::fprintf(out, ",\n     \"targets_met\": {\"cycles_per_packet\": %s, \"raw_ratio\": %s, \"new_sessions\": %s, "
                      "\"bytes_per_session\": %s},\n     ",
                 v.cycles ? "true" : "false", v.ratio ? "true" : "false", v.new_sessions ? "true" : "false",
                 v.memory ? "true" : "false");
    print_problems(out, v4.problems);
    for (const PlanResult& p : r.plans)
      if (&p != &v4) write_plan_json(out, run, r, p);
    std::fprintf(out, "}");
  }
  std::fprintf(out, "\n  ]\n}\n");
  if (std::ferror(out)) throw std::runtime_error("cannot write " + path);
}

bool targets_met(const RunInfo& run, const std::vector<WorkerResult>& results) {
  for (const WorkerResult& r : results) {
    if (!verdicts(run, r).all()) return false;
    for (const PlanResult& p : r.plans)
      if (!p.problems.empty()) return false;
  }
  return !results.empty();
}

}  // namespace bench
