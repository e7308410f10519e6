// maxConnections: every scheduler passes over a full real server, a service whose servers are
// all full drops new flows (counted), and every way a session ends gives its slot back.
#include <rte_ring_elem.h>

#include <memory>
#include <random>

#include "check.h"
#include "lab.h"
#include "scheduler.h"
#include "sessions.h"

using namespace l4lb;
using namespace lab;

namespace {

const SchedulerKind kAllKinds[] = {SchedulerKind::rr, SchedulerKind::wrr, SchedulerKind::lc,
                                   SchedulerKind::wlc, SchedulerKind::sh,  SchedulerKind::mh};

// Three servers (ids 0..2), the second limited to 2 sessions.
std::vector<Backend> three_servers() {
  std::vector<Backend> backends(3);
  for (uint32_t i = 0; i < 3; ++i) {
    backends[i].id = i;
    backends[i].address = Address::v4(0x0a000101 + i);
    backends[i].port = 80;
    backends[i].weight = 1;
  }
  backends[1].max_connections = 2;
  return backends;
}

struct Load {
  std::unique_ptr<std::atomic<uint32_t>[]> sessions{new std::atomic<uint32_t>[kMaxBackends]()};
  std::unique_ptr<BackendCounters[]> counters{new BackendCounters[kMaxBackends]()};
  uint32_t active[3] = {};
  ServerLoad load() { return ServerLoad{active, sessions.get(), counters.get()}; }
};

// Picks for `flows` random clients; how many went to each server (index 3: kServersFull).
std::vector<int> picks(SchedulerKind kind, const std::vector<Backend>& backends, Load& load, int flows) {
  auto scheduler = Scheduler::build(kind, backends);
  SchedulerCursor cursor;
  std::mt19937_64 random(7);
  std::vector<int> counts(4);
  for (int i = 0; i < flows; ++i) {
    int chosen = scheduler->pick(backends, cursor, FlowHint{Address::v4(uint32_t(random())), uint16_t(random())},
                                 load.load());
    if (chosen == kNoServer) CHECK(false);
    ++counts[chosen >= 0 ? chosen : 3];
  }
  return counts;
}

std::atomic<uint32_t>* counts(Lab& lab) { return lab.server_sessions.counts.get(); }

}  // namespace

TEST(server_limit_every_scheduler_passes_over_a_full_server) {
  for (SchedulerKind kind : kAllKinds) {
    std::vector<Backend> backends = three_servers();
    Load load;
    load.sessions[1] = 2;   // at its limit
    std::vector<int> full = picks(kind, backends, load, 600);
    CHECK_EQ(full[1], 0);
    CHECK(full[0] > 0 && full[2] > 0);
    CHECK_EQ(full[3], 0);
    CHECK(load.counters[1].limited > 0);
    CHECK_EQ(load.counters[0].limited + load.counters[2].limited, uint64_t(0));

    load.sessions[1] = 1;   // room again: it takes its share
    std::vector<int> room = picks(kind, backends, load, 600);
    CHECK(room[1] > 100);
  }
}

TEST(server_limit_all_full_is_told_apart_from_no_server) {
  for (SchedulerKind kind : kAllKinds) {
    std::vector<Backend> backends = three_servers();
    for (Backend& b : backends) b.max_connections = 1;
    Load load;
    for (uint32_t i = 0; i < 3; ++i) load.sessions[i] = 1;
    auto scheduler = Scheduler::build(kind, backends);
    SchedulerCursor cursor;
    CHECK_EQ(scheduler->pick(backends, cursor, FlowHint{Address::v4(0x01020304), 5}, load.load()), kServersFull);
    for (uint32_t i = 0; i < 3; ++i) CHECK(load.counters[i].limited >= 1);
    // Down (mh steps over it) or full, nothing left: still "full", since one would be there.
    backends[0].healthy = false;
    if (kind == SchedulerKind::mh)
      CHECK_EQ(scheduler->pick(backends, cursor, FlowHint{Address::v4(0x01020304), 5}, load.load()), kServersFull);
    for (Backend& b : backends) b.weight = 0;
    auto none = Scheduler::build(kind, backends);
    CHECK_EQ(none->pick(backends, cursor, FlowHint{Address::v4(0x01020304), 5}, load.load()), kNoServer);
  }
}

TEST(server_limit_full_service_drops_new_flows_and_counts_them) {
  Settings settings;
  settings.max_connections[0] = settings.max_connections[1] = 1;
  Lab lab(1, 1024, settings);
  lab.seed_neighbours();
  Worker& w = lab.worker();
  for (uint16_t port : {40000, 40001, 40002}) client_port().inject(packets::tcp(from_client(port), kSyn, 1000, 0));
  lab.poll();
  std::vector<packets::Seen> out = sent_frames(server_port());
  CHECK_EQ(out.size(), size_t(2));   // one for each server, the third refused
  CHECK_EQ(lab.drops(Drop::server_limit), uint64_t(1));
  CHECK_EQ(lab.drops(Drop::no_backend), uint64_t(0));
  CHECK_EQ(w.counters->backends[0].limited, uint64_t(1));
  CHECK_EQ(w.counters->backends[1].limited, uint64_t(1));
  CHECK_EQ(counts(lab)[0].load(), 1u);
  CHECK_EQ(counts(lab)[1].load(), 1u);
  CHECK_EQ(w.sessions->size(), 2u);
}

TEST(server_limit_every_end_of_a_session_gives_its_slot_back) {
  Settings settings;
  settings.max_connections[0] = settings.max_connections[1] = 1;
  Lab lab(1, 1024, settings);
  lab.seed_neighbours();
  Worker& w = lab.worker();
  auto syn = [&](uint16_t port) {
    client_port().inject(packets::tcp(from_client(port), kSyn, 1000, 0));
    lab.poll();
    return sent_frames(server_port()).size();
  };
  CHECK_EQ(syn(40000), size_t(1));   // RS1
  CHECK_EQ(syn(40001), size_t(1));   // RS2
  CHECK_EQ(syn(40002), size_t(0));

  // Closed: a RST leaves it in CLOSE, still counted (as IPVS counts inactive ones) until it expires.
  client_port().inject(packets::tcp(from_client(40000), kRst, 1001, 0));
  lab.poll();
  server_port().clear();
  CHECK_EQ(counts(lab)[0].load(), 1u);
  lab.advance(3100);
  lab.poll();
  CHECK_EQ(counts(lab)[0].load(), 0u);
  CHECK_EQ(syn(40003), size_t(1));

  // Expired: idle past SYN_RECV's 30 s.
  lab.advance(30'100);
  lab.poll();
  CHECK_EQ(w.sessions->size(), 0u);
  CHECK_EQ(counts(lab)[0].load() + counts(lab)[1].load(), 0u);

  // Flushed.
  CHECK_EQ(syn(40004) + syn(40005), size_t(2));
  WorkerRequest flush;
  flush.kind = WorkerRequest::Kind::flush_sessions;
  serve_request(w, flush);
  CHECK_EQ(counts(lab)[0].load() + counts(lab)[1].load(), 0u);
  w.flush_tx();   // the flush's resets
  client_port().clear();
  server_port().clear();

  // Reset because its server was disabled.
  CHECK_EQ(syn(40006) + syn(40007), size_t(2));
  Settings disabled = settings;
  disabled.generation = 2;
  disabled.enabled[1] = false;
  disabled.ended = {1};
  lab.publish(snapshot(disabled));
  client_port().clear();
  server_port().clear();
  CHECK_EQ(counts(lab)[1].load(), 0u);
  CHECK_EQ(counts(lab)[0].load(), 1u);
}

TEST(server_limit_counts_a_peer_session_once_it_carries_traffic_here) {
  Settings settings;
  settings.max_connections[0] = settings.max_connections[1] = 1;
  Lab lab(1, 1024, settings);
  lab.seed_neighbours();
  Worker& w = lab.worker();
  SyncEvent e = peer_event();   // client 40000 on RS1
  CHECK_EQ(rte_ring_sp_enqueue_elem(w.sync_in, &e, sizeof(e)), 0);
  lab.poll();
  CHECK_EQ(w.sessions->size(), 1u);
  CHECK_EQ(counts(lab)[0].load(), 0u);   // held for a failover, not counted

  client_port().inject(packets::tcp(from_client(40000), kAck, 1001, 5001));
  lab.poll();
  server_port().clear();
  CHECK_EQ(counts(lab)[0].load(), 1u);   // adopted: counted from now on
  lab.advance(91'000);
  lab.poll();
  CHECK_EQ(w.sessions->size(), 0u);
  CHECK_EQ(counts(lab)[0].load(), 0u);
}
