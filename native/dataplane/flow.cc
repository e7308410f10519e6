// FullNAT for TCP and UDP over IPv4 and IPv6, and NAT64 (an IPv6 VIP with IPv4 real servers).
//
//   inbound   client:cport → VIP:vport      becomes   LIP:lport → RS:rport
//   outbound  RS:rport     → LIP:lport      becomes   VIP:vport → client:cport
//
// Both families take the same path: one flow key and one session layout (address.h); the
// family shows only in the header rewrite (nat.h within a family, nat64.h across).
//
// Every flow has one owner worker: for a VIP, the hash of the client's address and port
// (owner_of_client); for a local address, the worker whose slice holds the local port
// (owner_of_local_port). A session lives in its owner's table only, and both of its keys name
// that owner, so a worker that finds a packet's key in its own table owns the packet. Hence
// one lookup by the wire key comes first and gives the session and the direction; only on a
// miss does the worker ask the snapshot whose flow it is, pass another worker's packet to
// that worker, and open a session for a new flow towards a VIP (TCP: SYN without ACK only).
#include "flow.h"

#include "client_address.h"
#include "nat.h"
#include "nat64.h"
#include "rate_limit.h"
#include "sync_events.h"

namespace l4lb {

namespace {

const Timeouts kDefaultTimeouts;

uint32_t refuse(Worker& w, rte_mbuf* m, uint16_t in_port, Drop why) {
  w.drop(m, in_port, why);
  return kNoSession;
}

// Opens a session for a new inbound flow, or drops the packet and returns kNoSession.
// Cost: a scheduler pick, a local port allocation and a table insert (two index slots).
uint32_t open_session(Worker& w, rte_mbuf* m, const IpFrame& f, const FlowKey& key, const Service& service,
                      uint16_t in_port) {
  if (!service.enabled) return refuse(w, m, in_port, Drop::no_service);
  if (f.protocol == IPPROTO_TCP && (f.tcp()->tcp_flags & (kSyn | kAck | kRst)) != kSyn)
    return refuse(w, m, in_port, Drop::no_service);   // not the start of a connection we know
  // Allow/deny lists: here only, so a session's later packets never pay for them. Cost: one
  // test for a service without lists; otherwise a hash probe per prefix length present
  // (access_list.h): with a 50,000-entry list, 400-600 cycles (a cache miss or two) on top
  // of ~600 for the session itself (native/bench, "IPv4 allow-list"; docs/protection.md).
  if (!service.access.empty()) {
    Access access = service.access.check(key.source);
    if (access != Access::admitted) {
      ServiceCounters& sc = w.counters->services[service.id];
      ++(access == Access::denied ? sc.refused_denied : sc.refused_not_allowed);
      return refuse(w, m, in_port, Drop::access_list);
    }
  }
  // clientRateLimit: after the lists (a refused client spends no token), before the pick (an
  // over-limit one takes no server's slot). Cost: one test without a limit; else a hash and
  // one line of the worker's bucket table (rate_limit.h).
  if (service.client_rate_limit.connections_per_second &&
      !w.client_rates->admit(key.source, service.id, service.client_rate_limit, w.workers, w.now_ms)) {
    ++w.counters->services[service.id].rate_limited;
    return refuse(w, m, in_port, Drop::rate_limited);
  }

  SchedulerCursor& cursor = w.cursors[service.id];
  if (cursor.version != service.version) {   // the service changed: start its rotation over
    cursor.version = service.version;
    cursor.next = 0;
    cursor.credit.assign(cursor.credit.size(), 0);
  }
  int picked = service.scheduler
                   ? service.scheduler->pick(service.backends, cursor, FlowHint{key.source, key.source_port},
                                             ServerLoad{w.active.data(), w.server_sessions, w.counters->backends})
                   : kNoServer;
  if (picked < 0) return refuse(w, m, in_port, picked == kServersFull ? Drop::server_limit : Drop::no_backend);
  const Backend& backend = service.backends[picked];
  Egress client_side = w.snapshot->route(key.source);
  if (backend.egress.port == kNoPort || client_side.port == kNoPort) return refuse(w, m, in_port, Drop::no_route);

  // Local address: the pool's addresses in turn from a hash of the client, so clients spread.
  const Pool* pool = service.pool < w.snapshot->pools.size() ? &w.snapshot->pools[service.pool] : nullptr;
  Address local;
  uint16_t local_port = 0;
  size_t count = pool ? pool->addresses.size() : 0;
  for (size_t i = 0, start = count ? (key.source.fold32() ^ key.source_port) % count : 0; i < count && !local_port; ++i) {
    local = pool->addresses[(start + i) % count];
    local_port = w.local_ports->allocate(local, pool->port_min, pool->port_max);
  }
  if (!local_port) return refuse(w, m, in_port, Drop::no_local_port);

  Session s;
  if (!make_session(w, key, FlowKey{backend.address, local, backend.port, local_port, key.protocol}, service, backend,
                    client_side, &s)) {
    w.local_ports->release(local, local_port);
    return refuse(w, m, in_port, Drop::no_route);
  }
  s.state = f.protocol == IPPROTO_TCP ? TcpState::none : TcpState::udp;
  s.flags |= client_address_flags(service.client_address, key.protocol);
  s.timeout_s = state_timeout_s(s.state, service.timeouts);
  s.expires_ms = w.now_ms + uint64_t(s.timeout_s) * 1000;
  uint32_t index = w.sessions->insert(s);
  if (index == kNoSession) {
    release_hops(w, s);
    w.local_ports->release(local, local_port);
    return refuse(w, m, in_port, Drop::table_full);
  }
  ++w.counters->services[service.id].new_sessions;
  ++w.counters->backends[backend.id].new_sessions;
  count_live_session(w, s);
  return index;
}

// The packet's new ends, in its family (one compare for FullNAT) or across (NAT64).
inline bool rewrite(rte_mbuf* m, IpFrame& f, const Address& source, uint16_t source_port, const Address& destination,
                    uint16_t destination_port) {
  if (f.v6 == !destination.is_v4()) {
    translate(f, source, source_port, destination, destination_port);
    return true;
  }
  return translate_across(m, f, source, source_port, destination, destination_port);
}

// Translates one packet of a session (`opened` by it, or not) and sends it on. Cost: a
// state-table lookup, a timer re-arm, the translation and send_ip; with sync, two compares
// unless an event is due (sync_events.h).
void forward(Worker& w, rte_mbuf* m, IpFrame& f, uint32_t index, Direction direction, bool opened) {
  Session& s = w.sessions->at(index);
  const Service* service = w.snapshot->service_by_id[s.service_id];
  const Timeouts& timeouts = service ? service->timeouts : kDefaultTimeouts;
  TcpState state_before = s.state;
  uint8_t flags_before = s.flags;
  if (s.flags & (kSessionFromPeer | kSessionTakenOver)) {   // one test for sessions opened here
    if (s.flags & kSessionFromPeer) adopt_peer_session(w, s);
    ++w.counters->sync.taken_over_packets;
  }
  if (f.protocol == IPPROTO_TCP) {
    const rte_tcp_hdr* tcp = f.tcp();
    set_state(w, s, next_tcp_state(s.state, direction, tcp->tcp_flags));
    uint32_t next_seq = rte_be_to_cpu_32(tcp->sent_seq) + f.tcp_sequence_length();
    (direction == Direction::inbound ? s.client_next_seq : s.server_next_seq) = next_seq;
  }
  w.sessions->touch(index, w.now_ms, state_timeout_s(s.state, timeouts));

  uint32_t bytes = rte_pktmbuf_pkt_len(m);
  ServiceCounters& sc = w.counters->services[s.service_id];
  BackendCounters& bc = w.counters->backends[s.backend_id];
  if (direction == Direction::inbound) {
    if (!rewrite(m, f, s.outbound.destination, s.outbound.destination_port, s.outbound.source, s.outbound.source_port))
      return w.drop(m, m->port, Drop::translation);
    if (!client_address_inbound(w, m, f, s)) return;
    ++sc.packets_in;
    sc.bytes_in += bytes;
    ++bc.packets_in;
    bc.bytes_in += bytes;
    w.send_ip(m, server_egress(w, s));
  } else {
    if (!rewrite(m, f, s.inbound.destination, s.inbound.destination_port, s.inbound.source, s.inbound.source_port))
      return w.drop(m, m->port, Drop::translation);
    client_address_outbound(f, s);
    ++sc.packets_out;
    sc.bytes_out += bytes;
    ++bc.packets_out;
    bc.bytes_out += bytes;
    w.send_ip(m, client_egress(w, s));
  }
  // After the client-address hooks, which fix the sequence shift and mark the header sent.
  if (w.snapshot->sync_events && service && service->sync) sync_after_packet(w, s, state_before, flags_before, opened);
}

}  // namespace

static_assert(kMaxServices <= (1u << 12) && kMaxBackends <= (1u << 20) && kMaxPorts <= 256,
              "a Session's ids and port ids are that narrow (sessions.h)");

bool make_session(Worker& w, const FlowKey& inbound, const FlowKey& outbound, const Service& service,
                  const Backend& backend, const Egress& client_side, Session* out) {
  Session& s = *out;
  s.inbound = inbound;
  s.outbound = outbound;
  s.service_id = service.id;
  s.backend_id = backend.id;
  s.client_port_id = uint8_t(client_side.port);
  s.server_port_id = uint8_t(backend.egress.port);
  s.client_hop = w.next_hops->hold(inbound.source, client_side.next_hop);
  s.server_hop = w.next_hops->hold(outbound.source, backend.egress.next_hop);
  if (s.client_hop != NextHops::kFull && s.server_hop != NextHops::kFull) return true;
  release_hops(w, s);
  return false;
}

void release_hops(Worker& w, const Session& s) {
  w.next_hops->release(s.client_hop);
  w.next_hops->release(s.server_hop);
}

void count_live_session(Worker& w, const Session& s) {
  ++w.counters->sessions_live;
  if (!(s.flags & kSessionFromPeer)) w.server_sessions[s.backend_id].fetch_add(1, std::memory_order_relaxed);
  if (is_active(s.state)) {
    ++w.counters->backends[s.backend_id].active;
    ++w.active[s.backend_id];
  } else {
    ++w.counters->backends[s.backend_id].inactive;
  }
}

void set_state(Worker& w, Session& s, TcpState next) {
  if (next == s.state) return;
  bool was = is_active(s.state), is = is_active(next);
  s.state = next;
  if (was == is) return;
  BackendCounters& bc = w.counters->backends[s.backend_id];
  if (is) {
    --bc.inactive;
    ++bc.active;
    ++w.active[s.backend_id];
  } else {
    ++bc.inactive;
    --bc.active;
    --w.active[s.backend_id];
  }
}

namespace {

// A packet between the stages of process_ip_burst().
struct Pending {
  rte_mbuf* m;
  IpFrame f;
  FlowKey key;
  uint32_t hash;
};

// The last stage for one TCP/UDP packet. A session found here is this worker's to forward
// (both of its keys are owned by this worker: see above), so an established flow costs one
// lookup and no service lookup. Without one, the snapshot says whose flow it is: another
// worker's packet is passed on (after a lookup that missed, which is the price of not
// looking up services for every packet); a new flow towards a VIP opens a session.
void process_flow(Worker& w, Pending& p, uint16_t in_port) {
  Direction direction = Direction::inbound;
  uint32_t index = w.sessions->find(p.key, p.hash, &direction);
  bool opened = index == kNoSession;
  if (opened) {
    const FlowKey& key = p.key;
    const Service* service = w.snapshot->find_service(key.destination, key.destination_port, key.protocol);
    uint16_t owner;
    if (service) owner = owner_of_client(key.source, key.source_port, w.workers);
    else if (w.snapshot->find_pool(key.destination)) owner = owner_of_local_port(key.destination_port, w.workers);
    else return w.drop(p.m, in_port, Drop::no_service);
    if (owner != w.id) return w.redirect(p.m, owner);
    if (!service) return w.drop(p.m, in_port, Drop::no_service);
    index = open_session(w, p.m, p.f, key, *service, in_port);
    if (index == kNoSession) return;
  }
  forward(w, p.m, p.f, index, direction, opened);
}

}  // namespace

// Three passes over the burst, so that the cache misses of the session lookups overlap
// (sessions.h): parse and hash everything, prefetching index lines; then prefetch the sessions
// the index names; then look up and forward. Costs per packet: parse ~one header line (already
// prefetched by the caller), five crc32, and, at 1M sessions, two misses that a burst overlaps.
// Packets keep their order: every lookup happens in the last pass, so a session opened by a
// SYN is found by the next packet of its flow in the same burst.
void process_ip_burst(Worker& w, rte_mbuf* const* frames, uint16_t count, uint16_t in_port, bool from_wire) {
  Pending pending[Worker::kBurst];
  uint16_t n = 0;
  for (uint16_t i = 0; i < count; ++i) {
    rte_mbuf* m = frames[i];
    Pending& p = pending[n];
    Drop why;
    const bool v6 = header_at<uint8_t>(m, 12)[0] == (RTE_ETHER_TYPE_IPV6 >> 8);   // 0x86dd; IPv4 is 0x0800
    if (!(v6 ? parse_ipv6(m, &p.f, &why) : parse_ipv4(m, &p.f, &why))) {
      w.drop(m, in_port, why);
      continue;
    }
    if (p.f.protocol == IPPROTO_ICMP && !v6) {
      handle_icmp(w, m, p.f, in_port);
      continue;
    }
    if (p.f.protocol == IPPROTO_ICMPV6 && v6) {
      handle_icmpv6(w, m, p.f, in_port, from_wire);
      continue;
    }
    if (p.f.protocol != IPPROTO_TCP && p.f.protocol != IPPROTO_UDP) {
      w.drop(m, in_port, Drop::no_service);
      continue;
    }
    // IPv6 reaches here on a backup too, for neighbour discovery above (worker.cc).
    if (v6 && w.snapshot->backup) {
      w.drop(m, in_port, Drop::backup);
      continue;
    }
    // Forwarded packets only: TTL 1 would reach zero here (ICMP to us was answered above).
    if (p.f.hop_limit() <= 1) {
      w.drop(m, in_port, Drop::ttl);
      continue;
    }
    p.m = m;
    p.key = p.f.key();
    p.hash = w.sessions->hash(p.key);
    w.sessions->prefetch_index(p.hash);
    ++n;
  }
  for (uint16_t i = 0; i < n; ++i) w.sessions->prefetch_session(pending[i].hash);
  for (uint16_t i = 0; i < n; ++i) process_flow(w, pending[i], in_port);
}

}  // namespace l4lb
