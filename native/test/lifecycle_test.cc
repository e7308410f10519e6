// Sessions across configuration changes and control requests: draining (weight 0), ending
// (server disabled → RST both ways), removed services, list and flush; and flows that land
// on the wrong worker.
#include "check.h"
#include "flow.h"
#include "lab.h"
#include "sessions.h"

using namespace l4lb;
using namespace lab;
using packets::Seen;

namespace {

// Opens and establishes a TCP flow; returns the local port. Client ISN 1000, server ISN 5000.
uint16_t establish(Lab& lab, uint16_t cport, uint16_t worker = 0) {
  client_port().inject(packets::tcp(from_client(cport), kSyn, 1000, 0), worker);
  lab.poll(worker);
  std::vector<Seen> syn = sent_frames(server_port(), worker);
  CHECK_EQ(syn.size(), size_t(1));
  if (syn.empty()) return 0;
  server_port().inject(packets::tcp(from_server(syn[0].destination, syn[0].source_port), kSyn | kAck, 5000, 1001),
                       worker);
  client_port().inject(packets::tcp(from_client(cport), kAck, 1001, 5001, 10), worker);
  lab.poll(worker);
  client_port().clear();
  server_port().clear();
  return syn[0].source_port;
}

}  // namespace

TEST(lifecycle_weight_zero_drains) {
  Lab lab;
  lab.seed_neighbours();
  uint16_t lport = establish(lab, 50000);   // to RS1 (rr starts there)
  Settings drained;
  drained.generation = 2;
  drained.version = 2;
  drained.weight[0] = 0;
  lab.publish(snapshot(drained));
  CHECK_EQ(lab.worker().seen_generation.load(), uint64_t(2));

  client_port().inject(packets::tcp(from_client(50000), kAck, 1011, 5001, 20));
  lab.poll();
  std::vector<Seen> old_flow = sent_frames(server_port());
  CHECK_EQ(old_flow.size(), size_t(1));
  if (!old_flow.empty()) {
    CHECK_EQ(old_flow[0].destination, kRs1);
    CHECK_EQ(old_flow[0].source_port, lport);
  }
  for (uint16_t i = 1; i <= 2; ++i) client_port().inject(packets::tcp(from_client(uint16_t(50000 + i)), kSyn, 1, 0));
  lab.poll();
  std::vector<Seen> new_flows = sent_frames(server_port());
  CHECK_EQ(new_flows.size(), size_t(2));
  for (const Seen& s : new_flows) CHECK_EQ(s.destination, kRs2);
}

TEST(lifecycle_disabled_backend_resets_both_ends) {
  Lab lab;
  lab.seed_neighbours();
  Worker& w = lab.worker();
  uint16_t lport = establish(lab, 51000);   // RS1
  establish(lab, 51001);                    // RS2: untouched
  Settings disabled;
  disabled.generation = 2;
  disabled.version = 2;
  disabled.enabled[0] = false;
  disabled.ended = {0};
  lab.publish(snapshot(disabled));

  std::vector<Seen> to_client = sent_frames(client_port()), to_server = sent_frames(server_port());
  CHECK_EQ(to_client.size(), size_t(1));
  CHECK_EQ(to_server.size(), size_t(1));
  if (to_client.size() == 1) {
    const Seen& r = to_client[0];
    CHECK_EQ(r.flags, kRst | kAck);
    CHECK_EQ(r.source, kVip);
    CHECK_EQ(r.source_port, kTcpPort);
    CHECK_EQ(r.destination, kClient);
    CHECK_EQ(r.destination_port, 51000);
    CHECK_EQ(r.seq, 5001u);     // what the client expects next from the server
    CHECK_EQ(r.ack, 1011u);
    CHECK(r.ip_checksum_ok && r.l4_checksum_ok);
  }
  if (to_server.size() == 1) {
    const Seen& r = to_server[0];
    CHECK_EQ(r.flags, kRst | kAck);
    CHECK_EQ(r.source, kLip);
    CHECK_EQ(r.source_port, lport);
    CHECK_EQ(r.destination, kRs1);
    CHECK_EQ(r.destination_port, kServerPort);
    CHECK_EQ(r.seq, 1011u);
    CHECK(r.ip_checksum_ok && r.l4_checksum_ok);
    CHECK(packets::same_mac(r.destination_mac, kRs1Mac));
  }
  CHECK_EQ(w.sessions->size(), 1u);
  CHECK_EQ(w.counters->sessions_reset, uint64_t(1));
  CHECK_EQ(w.counters->backends[0].active, 0u);
  CHECK_EQ(w.counters->backends[1].active, 1u);
  CHECK_EQ(w.local_ports->in_use(kLip), 1u);

  // The client's next segment finds no session and is refused.
  client_port().inject(packets::tcp(from_client(51000), kAck, 1011, 5001, 5));
  lab.poll();
  CHECK(sent_frames(server_port()).empty());
  CHECK_EQ(lab.drops(Drop::no_service), uint64_t(1));
}

TEST(lifecycle_removed_service_ends_its_sessions) {
  Lab lab;
  lab.seed_neighbours();
  client_port().inject(packets::udp(from_client(5000, kUdpPort)));
  lab.poll();
  server_port().clear();
  CHECK_EQ(lab.worker().sessions->size(), 1u);
  Settings without_udp;
  without_udp.generation = 2;
  std::unique_ptr<Snapshot> next = snapshot(without_udp);
  next->by_vip.erase(ServiceKey{kVip, kUdpPort, IPPROTO_UDP});
  next->service_by_id[kUdpService] = nullptr;
  next->services_gone = true;
  next->backend_by_id[2] = next->backend_by_id[3] = nullptr;
  lab.publish(std::move(next));
  CHECK_EQ(lab.worker().sessions->size(), 0u);
  CHECK(sent_frames(client_port()).empty());   // no RST for UDP
}

TEST(lifecycle_list_and_flush_requests) {
  Lab lab;
  lab.seed_neighbours();
  Worker& w = lab.worker();
  establish(lab, 52000);
  establish(lab, 52001);
  client_port().inject(packets::udp(from_client(5000, kUdpPort)));
  lab.poll();
  server_port().clear();

  WorkerRequest everything;
  everything.limit = 100;
  serve_request(w, everything);
  CHECK_EQ(everything.matched, size_t(3));
  CHECK_EQ(everything.sessions.size(), size_t(3));

  WorkerRequest page;
  page.skip = 1;
  page.limit = 1;
  page.filter.protocol = IPPROTO_TCP;
  serve_request(w, page);
  CHECK_EQ(page.matched, size_t(2));
  CHECK_EQ(page.sessions.size(), size_t(1));

  WorkerRequest by_server;
  by_server.limit = 100;
  by_server.filter.backend_id = 1;
  serve_request(w, by_server);
  CHECK_EQ(by_server.matched, size_t(1));
  if (!by_server.sessions.empty()) {
    const SessionInfo& s = by_server.sessions[0];
    CHECK_EQ(s.server_address, kRs2);
    CHECK_EQ(s.client_address, kClient);
    CHECK_EQ(s.virtual_address, kVip);
    CHECK_EQ(s.virtual_port, kTcpPort);
    CHECK_EQ(s.local_address, kLip);
    CHECK_EQ(s.service_id, kTcpService);
  }

  // Posted the way the control thread does it: the next poll serves it.
  WorkerRequest flush;
  flush.kind = WorkerRequest::Kind::flush_sessions;
  flush.filter.service_id = kTcpService;
  w.request.store(&flush);
  lab.poll();
  CHECK(flush.done.load());
  CHECK(w.request.load() == nullptr);
  CHECK_EQ(flush.matched, size_t(2));
  CHECK_EQ(w.sessions->size(), 1u);
  CHECK_EQ(sent_frames(client_port()).size(), size_t(2));   // one RST per flushed TCP session
  CHECK_EQ(sent_frames(server_port()).size(), size_t(2));
}

TEST(lifecycle_flows_are_passed_to_their_owner) {
  Lab lab(2);
  lab.seed_neighbours();
  uint16_t cport = 53000;
  while (owner_of_client(kClient, cport, 2) != 1) ++cport;
  // Worker 0 receives the SYN of worker 1's flow and passes it on.
  client_port().inject(packets::tcp(from_client(cport), kSyn, 1000, 0), 0);
  lab.poll(0);
  CHECK_EQ(lab.worker(0).counters->redirected_out, uint64_t(1));
  CHECK_EQ(lab.worker(0).sessions->size(), 0u);
  lab.poll(1);
  CHECK_EQ(lab.worker(1).counters->redirected_in, uint64_t(1));
  CHECK_EQ(lab.worker(1).sessions->size(), 1u);
  std::vector<Seen> syn = sent_frames(server_port(), 1);   // worker 1 sends on its own queue
  CHECK_EQ(syn.size(), size_t(1));
  if (syn.empty()) return;
  CHECK_EQ(owner_of_local_port(syn[0].source_port, 2), uint16_t(1));

  // The server's answer lands on worker 0 too, and reaches the client through worker 1.
  server_port().inject(packets::tcp(from_server(kRs1, syn[0].source_port), kSyn | kAck, 5000, 1001), 0);
  lab.poll(0);
  lab.poll(1);
  std::vector<Seen> synack = sent_frames(client_port(), 1);
  CHECK_EQ(synack.size(), size_t(1));
  if (!synack.empty()) CHECK_EQ(synack[0].destination_port, cport);
  CHECK_EQ(lab.worker(0).counters->redirected_out, uint64_t(2));
  CHECK(sent_frames(client_port(), 0).empty());
}
