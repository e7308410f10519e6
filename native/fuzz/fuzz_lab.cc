// The fuzzer's network of fuzz_lab.h.
#include "fuzz_lab.h"

#include <cstdio>
#include <cstdlib>

#include <rte_mempool.h>
#include <rte_random.h>
#include <rte_ring_elem.h>
#include <sanitizer/lsan_interface.h>

#include "frame_checks.h"
#include "neighbour.h"
#include "sessions.h"
#include "sync_record.h"

namespace fuzz {

using namespace l4lb;
using packets::ip;

namespace {

constexpr uint16_t kWorkers = 2;
constexpr uint32_t kSessionsPerWorker = 64;
const Address kSecondLip = ip(10, 1, 0, 3), kUnresolvedServer = ip(10, 1, 0, 13);
const Address kSecondLip6 = packets::ip6("2001:db8:1::3"), kUnresolvedServer6 = packets::ip6("2001:db8:1::13");

// Two real servers with known MACs and a third whose MAC is never known: its frames wait for
// ARP or neighbour discovery and are given up.
std::vector<RealServerConfig> real_servers(bool v6) {
  return {RealServerConfig{"rs1", v6 ? lab::kRs6a : lab::kRs1, lab::kServerPort, 1, true},
          RealServerConfig{"rs2", v6 ? lab::kRs6b : lab::kRs2, lab::kServerPort, 2, true},
          RealServerConfig{"rs3", v6 ? kUnresolvedServer6 : kUnresolvedServer, lab::kServerPort, 1, true}};
}

// A service on `vip` whose real servers are IPv6 when `v6_servers` (through the IPv6 pool),
// else IPv4: NAT64 when the VIP is IPv6 and the servers are not.
ServiceConfig service(const char* name, const Address& vip, uint16_t port, Protocol protocol, SchedulerKind scheduler,
                      ClientAddress mode, bool v6_servers) {
  ServiceConfig s;
  s.name = name;
  s.address = vip;
  s.port = port;
  s.protocol = protocol;
  s.nic = "client";
  s.pool = v6_servers ? "locals6" : "locals";
  s.scheduler = scheduler;
  s.client_address = mode;
  s.real_servers = real_servers(v6_servers);
  return s;
}

// The same services in either family, on its VIP to its real servers: TCP passing the client
// address by none, TOA, PROXY v1 and v2; UDP by none and PROXY v2.
std::vector<ServiceConfig> full_nat_services(const Address& vip) {
  const bool v6 = !vip.is_v4();
  std::vector<ServiceConfig> services = {
      service("tcp", vip, 80, Protocol::tcp, SchedulerKind::rr, ClientAddress::none, v6),
      service("toa", vip, 81, Protocol::tcp, SchedulerKind::wlc, ClientAddress::toa, v6),
      service("proxy1", vip, 82, Protocol::tcp, SchedulerKind::sh, ClientAddress::proxy_v1, v6),
      service("proxy2", vip, 83, Protocol::tcp, SchedulerKind::mh, ClientAddress::proxy_v2, v6),
      service("udp", vip, 53, Protocol::udp, SchedulerKind::wrr, ClientAddress::none, v6),
      service("udp-proxy2", vip, 54, Protocol::udp, SchedulerKind::lc, ClientAddress::proxy_v2, v6)};
  for (ServiceConfig& s : services) s.name += v6 ? "-6" : "";
  return services;
}

Config config() {
  Config c;
  c.generation = 2;
  c.sync.enabled = true;
  c.nics = {NicConfig{"client", "net_ring (fuzz)", {Prefix{ip(10, 0, 0, 0), 24}, Prefix{packets::ip6("2001:db8::"), 64}},
                      lab::kClient, Prefix{lab::kProbe, 24}, Prefix{packets::ip6("2001:db8::fe"), 64}, 1500},
            NicConfig{"server", "net_ring (fuzz)", {Prefix{ip(10, 1, 0, 0), 24}, Prefix{packets::ip6("2001:db8:1::"), 64}},
                      Address(), {}, {}, 1500}};
  c.pools = {PoolConfig{"locals", "server", {lab::kLip, kSecondLip}, 1024, 1151},
             PoolConfig{"locals6", "server", {lab::kLip6, kSecondLip6}, 1024, 1151}};
  c.services = full_nat_services(lab::kVip);
  for (ServiceConfig& s : full_nat_services(lab::kVip6)) c.services.push_back(s);
  // NAT64: a UDP service too, for IPv4 datagrams without a checksum, which IPv6 must be given.
  c.services.push_back(service("nat64", lab::kVip6, 84, Protocol::tcp, SchedulerKind::wrr, ClientAddress::none, false));
  c.services.push_back(service("nat64-udp", lab::kVip6, 55, Protocol::udp, SchedulerKind::rr, ClientAddress::none, false));
  ServiceConfig drained = service("drained", lab::kVip, 90, Protocol::tcp, SchedulerKind::wlc, ClientAddress::none, false);
  for (RealServerConfig& r : drained.real_servers) r.weight = 0;
  ServiceConfig disabled = service("disabled", lab::kVip, 91, Protocol::tcp, SchedulerKind::rr, ClientAddress::toa, false);
  disabled.enabled = false;
  c.services.push_back(drained);
  c.services.push_back(disabled);
  return c;
}

// The pool's memory is no heap LeakSanitizer knows, yet its mbufs hold the only pointers to
// the input frames' buffers while frames wait (for ARP, in a ring): scanned as a root, those
// are not leaks. A leaked mbuf keeps its buffer reachable too, so the pool is counted after
// every input (check_pool).
void register_pool_memory(rte_mempool* pool, void*, rte_mempool_memhdr* chunk, unsigned) {
  __lsan_register_root_region(chunk->addr, chunk->len);
}

void free_all(std::vector<rte_mbuf*>& frames, lab::RingPort& port, bool kernel_side, const std::vector<Address>& own) {
  for (rte_mbuf* m : frames) check_sent(m, port.port, kernel_side, own);
  lab::release(frames);
}

}  // namespace

FuzzLab::FuzzLab() {
  rte_mempool_mem_iter(packets::pool(), register_pool_memory, nullptr);
  build();
}

FuzzLab::~FuzzLab() { lab_.reset(); }

void FuzzLab::build() {
  rte_srand(1);   // local port slices start at a random point: the same one for every lab
  lab_ = std::make_unique<lab::Lab>(kWorkers, kSessionsPerWorker);
  std::map<std::string, NicPorts> ports = {
      {"client", NicPorts{lab::client_port().port, lab::tap_port().port, lab::kClientSideMac}},
      {"server", NicPorts{lab::server_port().port, kNoPort, lab::kServerSideMac}}};
  lab_->publish(compile_snapshot(config(), ports, kWorkers, service_ids_, backend_ids_, nullptr));
  own_.clear();
  for (const PortInfo& port : lab_->published.load()->ports) own_.insert(own_.end(), port.owned.begin(), port.owned.end());
  lab_->seed_neighbours();
}

void FuzzLab::reset() {
  lab_.reset();
  check_pool(0);
  build();
}

// Every mbuf of the pool is free or `held`; else one leaked (or was freed twice).
void FuzzLab::check_pool(uint32_t held) const {
  rte_mempool* pool = packets::pool();
  if (rte_mempool_avail_count(pool) + held != pool->size) {
    std::fprintf(stderr, "fuzz: %u mbufs free and %u held of %u\n", rte_mempool_avail_count(pool), held, pool->size);
    std::abort();
  }
}

// The mbufs the workers hold between inputs (a frame may have two): frames waiting for a
// neighbour, in an inbox, or in a transmit buffer. Cost: a pass over both neighbour tables
// (4096 slots) and the inboxes taken out and put back in order.
uint32_t FuzzLab::held() const {
  uint32_t count = 0;
  for (auto& w : lab_->workers) {
    for (uint32_t i = 0; i < Neighbours::kSlots; ++i) {
      const Neighbour* n = w->neighbours->slot(i);
      for (uint8_t q = 0; q < n->queued; ++q) count += n->queue[q]->nb_segs;
    }
    for (const Worker::TxBuffer& buffer : w->tx)
      for (uint16_t i = 0; i < buffer.count; ++i) count += buffer.frames[i]->nb_segs;
    std::vector<rte_mbuf*> waiting(rte_ring_count(w->inbox));
    auto** frames = reinterpret_cast<void**>(waiting.data());
    rte_ring_dequeue_bulk(w->inbox, frames, unsigned(waiting.size()), nullptr);
    for (rte_mbuf* m : waiting) count += m->nb_segs;
    rte_ring_enqueue_bulk(w->inbox, frames, unsigned(waiting.size()), nullptr);
  }
  return count;
}

void FuzzLab::advance(uint64_t ms) { lab_->advance(ms); }

std::vector<const Session*> FuzzLab::sessions() const {
  std::vector<const Session*> live;
  for (auto& w : lab_->workers) w->sessions->for_each([&](uint32_t i) { live.push_back(&w->sessions->at(i)); });
  return live;
}

void FuzzLab::feed(Ingress ingress, uint16_t queue, const std::vector<uint8_t>& frame, const Layout& layout, bool checked) {
  lab::RingPort& port = ingress == Ingress::client   ? lab::client_port()
                        : ingress == Ingress::server ? lab::server_port()
                                                     : lab::tap_port();
  Expect expect = ingress == Ingress::kernel ? Expect::nothing : checked ? Expect::checksums : Expect::headers;
  port.inject(make_frame(frame, layout, expect), queue);
  // The receiving worker first; then the other, which takes what it was passed (a frame of
  // its flow, copies of ARP answers) and may pass something back.
  uint16_t other = uint16_t(1 - queue);
  lab_->poll(queue);
  lab_->poll(other);
  lab_->poll(queue);
  drain();
  check_pool(held());
}

void FuzzLab::feed_peer(const uint8_t* records, size_t size, uint64_t age_ms) {
  for (size_t at = 0; at + kSyncRecordSize <= size; at += kSyncRecordSize) {
    SyncEvent e;
    SyncDrop why;
    // A full ring loses the record, as the appliance's ingest_full does after its wait.
    if (accept_sync_record(records + at, age_ms, kWorkers, &e, &why))
      rte_ring_enqueue_elem(lab_->worker(e.worker).sync_in, &e, sizeof e);
  }
  for (uint16_t q = 0; q < kWorkers; ++q) lab_->poll(q);
  drain();
  check_pool(held());
}

// Everything the workers sent, checked and freed; their sync events read (and passed to
// on_sync_event when set).
void FuzzLab::drain() {
  for (uint16_t q = 0; q < kWorkers; ++q) {
    for (lab::RingPort* port : {&lab::client_port(), &lab::server_port(), &lab::tap_port()}) {
      std::vector<rte_mbuf*> sent = port->sent(q);
      free_all(sent, *port, port == &lab::tap_port(), own_);
    }
    SyncEvent events[64];
    while (unsigned n = rte_ring_dequeue_burst_elem(lab_->worker(q).sync_out, events, sizeof(SyncEvent), 64, nullptr))
      for (unsigned i = 0; i < n && on_sync_event; ++i) on_sync_event(events[i]);
  }
}

}  // namespace fuzz
