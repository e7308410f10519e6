// Session sync in the workers: the events a worker writes for the sessions it forwards, a
// backup that forwards nothing, and a second node that installs the first node's sessions and
// carries their flows on (same local port, same sequence shift). The wire record itself is
// sync_record_test.cc's.
#include <vector>

#include <rte_ring_elem.h>

#include "check.h"
#include "client_address.h"
#include "lab.h"
#include "sessions.h"
#include "sync_events.h"
#include "sync_record.h"

using namespace l4lb;
using namespace lab;
using packets::Seen;

namespace {

constexpr uint32_t kIsn = 1000, kServerIsn = 5000;

// Every event the worker queued, oldest first.
std::vector<SyncEvent> queued_events(Worker& w) {
  std::vector<SyncEvent> out;
  SyncEvent e;
  while (rte_ring_sc_dequeue_elem(w.sync_out, &e, sizeof(e)) == 0) out.push_back(e);
  return out;
}

// Whether the worker lists its one session as installed from a peer.
bool listed_from_peer(Worker& w) {
  WorkerRequest list;
  list.limit = 10;
  serve_request(w, list);
  CHECK_EQ(list.sessions.size(), size_t(1));
  return !list.sessions.empty() && list.sessions[0].from_peer;
}

// What `port` sent (decoded; frames freed).
std::vector<Seen> sent(RingPort& port) { return sent_frames(port); }

Settings active(ClientAddress tcp = ClientAddress::none) {
  Settings s;
  s.sync_events = true;
  s.client_address[kTcpService] = tcp;
  return s;
}

// Client SYN, server SYN-ACK, client ACK: returns the local port the flow got.
uint16_t handshake(Lab& lab, uint16_t cport) {
  client_port().inject(packets::tcp(from_client(cport), kSyn, kIsn, 0));
  lab.poll();
  std::vector<Seen> syn = sent(server_port());
  CHECK_EQ(syn.size(), size_t(1));
  if (syn.empty()) return 0;
  uint16_t lport = syn[0].source_port;
  server_port().inject(packets::tcp(from_server(syn[0].destination, lport), kSyn | kAck, kServerIsn, kIsn + 1));
  lab.poll();
  client_port().inject(packets::tcp(from_client(cport), kAck, kIsn + 1, kServerIsn + 1));
  lab.poll();
  sent(client_port());
  sent(server_port());
  return lport;
}

}  // namespace

TEST(sync_worker_writes_new_update_refresh_and_close_events) {
  Lab lab(1, 1024, active());
  lab.seed_neighbours();
  Worker& w = lab.worker();
  uint16_t lport = handshake(lab, 40001);
  std::vector<SyncEvent> events = queued_events(w);
  CHECK(events.size() >= 2);
  if (events.size() < 2) return;
  CHECK(events.front().kind == SyncKind::new_session);
  CHECK(events.back().kind == SyncKind::update);
  CHECK_EQ(int(events.back().state), int(TcpState::established));
  CHECK_EQ(events.back().local_port, lport);
  CHECK(events.back().local_address == kLip);
  CHECK(events.back().server_address == kRs1);
  CHECK_EQ(events.back().remaining_ms, 90'000u);

  client_port().inject(packets::tcp(from_client(40001), kAck | kPsh, kIsn + 1, kServerIsn + 1, 10));
  lab.poll();
  CHECK(queued_events(w).empty());   // same state, recently synced: nothing to say

  lab.advance(46'000);               // past half the established timeout (90 s)
  client_port().inject(packets::tcp(from_client(40001), kAck | kPsh, kIsn + 11, kServerIsn + 1, 10));
  lab.poll();
  events = queued_events(w);
  CHECK_EQ(events.size(), size_t(1));
  if (!events.empty()) CHECK(events[0].kind == SyncKind::refresh);

  lab.advance(91'000);
  lab.poll();
  events = queued_events(w);
  CHECK_EQ(events.size(), size_t(1));
  if (!events.empty()) CHECK(events[0].kind == SyncKind::close);
  CHECK_EQ(w.counters->sync.ring_overflows, uint64_t(0));
}

TEST(sync_worker_writes_nothing_for_services_without_sync) {
  Settings s = active();
  s.service_sync = false;
  Lab lab(1, 1024, s);
  lab.seed_neighbours();
  handshake(lab, 40002);
  CHECK(queued_events(lab.worker()).empty());
}

TEST(sync_backup_forwards_nothing_answers_no_arp_and_writes_no_events) {
  Settings s = active();
  s.backup = true;
  Lab lab(1, 1024, s);
  lab.seed_neighbours();
  client_port().inject(packets::tcp(from_client(40003), kSyn, kIsn, 0));
  client_port().inject(packets::arp(1, kClientMac, kClient, MacAddress{}, kVip, true));
  lab.poll();
  CHECK(sent(server_port()).empty());
  CHECK(sent(client_port()).empty());
  CHECK_EQ(lab.drops(Drop::backup), uint64_t(2));
  CHECK(queued_events(lab.worker()).empty());
  lab.worker().announce = true;
  lab.poll();
  CHECK(sent(client_port()).empty());   // no gratuitous ARP either
}

TEST(sync_peer_installs_sessions_and_carries_their_flows_on) {
  std::vector<SyncEvent> events;
  uint16_t lport;
  {
    Lab origin(1, 1024, active(ClientAddress::proxy_v1));
    origin.seed_neighbours();
    lport = handshake(origin, 40004);
    client_port().inject(packets::tcp(from_client(40004), kAck | kPsh, kIsn + 1, kServerIsn + 1, 5));
    origin.poll();
    std::vector<Seen> first = sent(server_port());
    CHECK_EQ(first.size(), size_t(1));
    events = queued_events(origin.worker());
  }
  CHECK(!events.empty());
  if (events.empty()) return;
  SyncEvent last = events.back();
  CHECK(last.seq_delta > 0);
  CHECK(last.flags & kSessionAddressPassed);

  Settings peer_settings = active(ClientAddress::proxy_v1);
  peer_settings.port_min = lport;     // a one-port pool: the synced session must hold it
  peer_settings.port_max = lport;
  Lab peer(1, 1024, peer_settings);
  peer.seed_neighbours();
  Worker& w = peer.worker();
  for (const SyncEvent& e : events) {
    uint8_t wire[kSyncRecordSize];
    encode_sync_record(e, 9, 1, wire);
    SyncEvent decoded;
    SyncDrop why;
    CHECK(decode_sync_record(wire, &decoded, &why));
    CHECK_EQ(rte_ring_sp_enqueue_elem(w.sync_in, &decoded, sizeof(decoded)), 0);
  }
  peer.poll();
  CHECK_EQ(w.sessions->size(), 1u);
  CHECK_EQ(w.counters->sync.peer_sessions, int64_t(1));
  CHECK_EQ(w.counters->backends[0].active, 1u);
  CHECK(listed_from_peer(w));

  // The next client segment leaves from the same local port, shifted by the header's length.
  client_port().inject(packets::tcp(from_client(40004), kAck | kPsh, kIsn + 6, kServerIsn + 1, 5));
  peer.poll();
  std::vector<Seen> out = sent(server_port());
  CHECK_EQ(out.size(), size_t(1));
  if (out.size() == 1) {
    CHECK(out[0].source == kLip);
    CHECK_EQ(out[0].source_port, lport);
    CHECK(out[0].destination == kRs1);
    CHECK_EQ(out[0].seq, kIsn + 6 + uint32_t(last.seq_delta));
    CHECK(out[0].l4_checksum_ok);
  }
  // The server's acknowledgement reaches the client without the shift.
  server_port().inject(packets::tcp(from_server(kRs1, lport), kAck, kServerIsn + 1, kIsn + 11 + uint32_t(last.seq_delta)));
  peer.poll();
  std::vector<Seen> back = sent(client_port());
  CHECK_EQ(back.size(), size_t(1));
  if (back.size() == 1) CHECK_EQ(back[0].ack, kIsn + 11);
  CHECK_EQ(w.counters->sync.peer_sessions, int64_t(0));   // adopted by the first packet
  CHECK(!listed_from_peer(w));

  // Its local port is held: a new client finds the one-port pool exhausted.
  client_port().inject(packets::tcp(from_client(40005), kSyn, kIsn, 0));
  peer.poll();
  CHECK(sent(server_port()).empty());
  CHECK_EQ(peer.drops(Drop::no_local_port), uint64_t(1));
}

TEST(sync_peer_drops_records_it_cannot_place_and_closes_on_close) {
  Lab peer(1, 1024, active());
  peer.seed_neighbours();
  Worker& w = peer.worker();
  auto deliver = [&](SyncEvent e) {
    CHECK_EQ(rte_ring_sp_enqueue_elem(w.sync_in, &e, sizeof(e)), 0);
    peer.poll();
  };
  SyncEvent e = peer_event();
  SyncEvent unknown_service = e, unknown_server = e, unknown_local = e;
  unknown_service.virtual_port = 81;
  CHECK(parse_address("10.1.0.99", &unknown_server.server_address));
  CHECK(parse_address("10.1.0.3", &unknown_local.local_address));
  deliver(unknown_service);
  deliver(unknown_server);
  deliver(unknown_local);
  CHECK_EQ(w.counters->sync.dropped[int(SyncDrop::unknown_service)], uint64_t(1));
  CHECK_EQ(w.counters->sync.dropped[int(SyncDrop::unknown_server)], uint64_t(1));
  CHECK_EQ(w.counters->sync.dropped[int(SyncDrop::unknown_local_address)], uint64_t(1));
  CHECK_EQ(w.sessions->size(), 0u);

  deliver(e);
  CHECK_EQ(w.sessions->size(), 1u);
  deliver(e);                                        // again: an update, not a second session
  CHECK_EQ(w.sessions->size(), 1u);
  CHECK_EQ(w.counters->sync.updated, uint64_t(1));
  e.kind = SyncKind::close;
  deliver(e);
  CHECK_EQ(w.sessions->size(), 0u);
  CHECK_EQ(w.counters->sync.closed, uint64_t(1));
  CHECK_EQ(w.counters->sessions_live, uint64_t(0));
}

TEST(sync_peer_session_lasts_its_remaining_time_plus_half_a_timeout) {
  Lab peer(1, 1024, active());
  peer.seed_neighbours();
  Worker& w = peer.worker();
  SyncEvent e = peer_event();
  e.remaining_ms = 10'000;
  e.timeout_s = 90;
  CHECK_EQ(rte_ring_sp_enqueue_elem(w.sync_in, &e, sizeof(e)), 0);
  peer.poll();
  peer.advance(54'000);   // 10 s + 45 s of grace, less a second
  peer.poll();
  CHECK_EQ(w.sessions->size(), 1u);
  peer.advance(2'000);
  peer.poll();
  CHECK_EQ(w.sessions->size(), 0u);
  CHECK_EQ(w.counters->sync.peer_sessions, int64_t(0));
}

TEST(sync_snapshot_walks_the_table_in_pieces) {
  Lab lab(1, 1024, active());
  lab.seed_neighbours();
  for (uint16_t p = 0; p < 10; ++p) handshake(lab, uint16_t(41000 + p));
  queued_events(lab.worker());
  std::vector<SyncEvent> all;
  WorkerRequest request;
  request.kind = WorkerRequest::Kind::sync_snapshot;
  request.limit = 3;
  for (int pieces = 0; pieces < 10; ++pieces) {
    request.events.clear();
    serve_request(lab.worker(), request);
    all.insert(all.end(), request.events.begin(), request.events.end());
    CHECK(request.events.size() <= 3);
    if (request.slot == kNoSession) break;
  }
  CHECK_EQ(request.slot, kNoSession);
  CHECK_EQ(all.size(), size_t(10));
  for (const SyncEvent& e : all) CHECK(e.kind == SyncKind::refresh);
}

TEST(sync_full_ring_counts_overflows_and_forwarding_goes_on) {
  Lab lab(1, 8192, active());
  lab.seed_neighbours();
  Worker& w = lab.worker();
  const unsigned room = rte_ring_get_capacity(w.sync_out);
  const unsigned flows = room + 100;
  for (unsigned i = 0; i < flows; ++i) {
    client_port().inject(packets::tcp(from_client(uint16_t(20000 + i)), kSyn, kIsn, 0));
    if (i % 32 == 31) {
      lab.poll();
      server_port().clear();
    }
  }
  lab.poll();
  server_port().clear();
  CHECK_EQ(w.sessions->size(), flows);   // every flow forwarded
  CHECK_EQ(w.counters->sync.events_queued, uint64_t(room));
  CHECK_EQ(w.counters->sync.ring_overflows, uint64_t(flows - room));
  CHECK_EQ(queued_events(w).size(), size_t(room));
}
