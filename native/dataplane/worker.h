// One data-plane worker (a DPDK lcore). It owns everything it writes: its session table, local
// port slices, neighbour table, transmit buffers and counters, so the fast path takes no lock.
// The only shared inputs are the published Snapshot (read-only) and the inbox ring through
// which other workers pass it frames that belong to its sessions.
//
// Who implements what:
//   worker.cc     the loop: rx → classify (ARP / exception / IPv4) → process → tx, idle back-off,
//                 snapshot pick-up, control requests, timers
//   l2.cc         ARP, neighbour resolution, Ethernet output (send_ip), gratuitous ARP, tap path
//   flow.cc etc.  IPv4 and IPv6: ICMP echo, FullNAT (and NAT64) for TCP/UDP, sessions, expiry,
//                 reset of ended servers; nd.cc: IPv6 neighbour discovery
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "counters.h"
#include "scheduler.h"
#include "snapshot.h"
#include "sync_record.h"

namespace l4lb {

class SessionTable;   // sessions.h
class LocalPorts;     // sessions.h
class Neighbours;     // neighbour.h
class NextHops;       // next_hops.h
class ClientRates;    // rate_limit.h

enum class IdleMode : uint8_t { adaptive, busy };

// A live session as the control plane lists it.
struct SessionInfo {
  uint8_t protocol = 0;
  uint8_t state = 0;            // tcp_state_name() / "udp"
  Address client_address, virtual_address, local_address, server_address;
  uint16_t client_port = 0, virtual_port = 0, local_port = 0, server_port = 0;
  uint32_t service_id = 0, backend_id = 0;
  uint16_t worker = 0;
  uint32_t expires_in_ms = 0;
  bool from_peer = false;       // installed from a sync peer, no packet seen here yet
};

constexpr uint32_t kAnyId = 0xffffffff;

struct SessionFilter {
  uint32_t service_id = kAnyId;
  uint32_t backend_id = kAnyId;
  Address client_address;       // unset: any
  uint8_t protocol = 0;         // 0: any
};

// A request from the control thread, served by the worker between bursts.
struct WorkerRequest {
  enum class Kind : uint8_t { list_sessions, flush_sessions, sync_snapshot } kind = Kind::list_sessions;
  SessionFilter filter;
  size_t skip = 0, limit = 0;            // list: page within this worker's matches; snapshot: limit
  std::vector<SessionInfo> sessions;     // list: filled by the worker
  size_t matched = 0;                    // list: all matches; flush: sessions ended
  uint32_t slot = 0;                     // snapshot: first table slot in, next slot out (kNoSession: done)
  std::vector<SyncEvent> events;         // snapshot: refresh events of synced sessions
  std::atomic<bool> done{false};
};

// dataplane.cc creates a Worker, then sets id, workers, lcore, idle, tsc_hz, published, doorbell, inbox,
// all, server_sessions, pool, sessions (make_session_table) and local_ports (make_local_ports); the
// constructor makes the rest (neighbours, next_hops, counters, cursors, active, client_rates).
struct Worker {
  Worker();
  ~Worker();   // in worker.cc, where the owned tables are complete types

  uint16_t id = 0;
  uint16_t workers = 1;          // how many there are (local port slicing)
  unsigned lcore = 0;
  IdleMode idle = IdleMode::adaptive;
  uint64_t now_ms = 0;           // refreshed once per loop iteration
  uint64_t tsc_hz = 0;

  const Snapshot* snapshot = nullptr;             // the one this worker forwards from
  std::atomic<const Snapshot*>* published = nullptr;  // where the control thread publishes
  std::atomic<uint64_t> seen_generation{0};       // lets the control thread free old snapshots
  std::atomic<WorkerRequest*> request{nullptr};
  std::atomic<bool> announce{false};              // gratuitous ARP (IPv6: unsolicited NA) for every
                                                  // owned address: worker 0 sends, the others just
                                                  // clear it
  std::atomic<bool> stop{false};
  // Rung (incremented, futex-woken) by the control thread after a publish or a request, so an
  // idle worker in adaptive mode wakes at once instead of at the end of its sleep.
  std::atomic<uint32_t>* doorbell = nullptr;

  rte_ring* inbox = nullptr;                      // frames redirected here by other workers
  rte_ring* sync_out = nullptr;                   // SyncEvents for the control thread (sync_events.h)
  rte_ring* sync_in = nullptr;                    // peer SyncEvents from the control thread
  std::vector<Worker*>* all = nullptr;            // every worker, for redirect()

  std::unique_ptr<SessionTable> sessions;
  std::unique_ptr<LocalPorts> local_ports;
  std::unique_ptr<Neighbours> neighbours;
  std::unique_ptr<NextHops> next_hops;            // gateways the sessions send through
  std::unique_ptr<WorkerCounters> counters;
  std::vector<SchedulerCursor> cursors;           // kMaxServices, indexed by Service::id
  std::vector<uint32_t> active;                   // kMaxBackends: this worker's active sessions (lc/wlc)
  std::atomic<uint32_t>* server_sessions = nullptr;   // ServerSessions::counts, shared by all workers
  std::unique_ptr<ClientRates> client_rates;      // clientRateLimit buckets (rate_limit.h)
  rte_mempool* pool = nullptr;                    // for frames the worker makes (ARP, RST) and copies

  // Transmit buffers, one per DPDK port on queue `id`; flushed at the end of every poll.
  static constexpr uint16_t kBurst = 32;
  struct TxBuffer {
    uint16_t count = 0;
    rte_mbuf* frames[kBurst];
  };
  TxBuffer tx[kMaxPorts];
  uint64_t tx_pending = 0;   // bit p set: tx[p] holds frames, so flush_tx() looks at no other buffer
  static_assert(kMaxPorts <= 64, "tx_pending has a bit per port");
  uint64_t next_expiry_ms = 0, next_neighbour_ms = 0;   // timers, in now_ms
  uint32_t idle_polls = 0, sleep_us = 0;                // adaptive back-off state

  // --- worker.cc
  void run();                                     // until stop; called on the worker's lcore
  // One iteration of run() without the idle sleep: snapshot, request, announce, rx of every
  // port/tap/inbox, timers, tx flush. Returns the frames handled. Tests drive workers with it.
  unsigned poll_once();
  void redirect(rte_mbuf* m, uint16_t owner);     // hand a frame to the worker owning its session
  void drop(rte_mbuf* m, uint16_t port, Drop why);

  // --- l2.cc. `m` holds a whole Ethernet frame whose IPv4 header is final; fills in the
  // Ethernet addresses from the port and the neighbour table (queueing the frame and asking
  // by ARP when the next hop is unknown) and buffers it for transmission on egress.port.
  void send_ip(rte_mbuf* m, const Egress& egress);
  void send_raw(rte_mbuf* m, uint16_t port);      // buffer a finished frame
  void flush_tx();                                // hand every buffered frame to its port
  void handle_arp(rte_mbuf* m, uint16_t in_port, bool from_wire);  // from_wire false: inbox copy
  void send_gratuitous_arp();                     // every owned address of every port (IPv6: an
                                                  // unsolicited neighbour advertisement)
  void neighbour_timers();                        // retries and give-ups of unresolved next hops
};

// --- flow.cc (and the files it uses). Frames start at the Ethernet header.
// A burst of IP frames (either family) received on one port, all for the data path (not for
// the probe address); from_wire false: passed by another worker. Cheaper per frame than one
// at a time (flow.cc says why).
void process_ip_burst(Worker& w, rte_mbuf* const* frames, uint16_t count, uint16_t in_port, bool from_wire);
void expire_sessions(Worker& w);                                 // once per ms or so
void on_snapshot(Worker& w, const Snapshot* previous);          // after w.snapshot changed
void serve_request(Worker& w, WorkerRequest& request);

// Constructors of the owned tables, so worker.cc needs no definitions of them.
std::unique_ptr<SessionTable> make_session_table(uint32_t capacity);
std::unique_ptr<LocalPorts> make_local_ports(uint16_t worker, uint16_t workers);
std::unique_ptr<Neighbours> make_neighbours();

}  // namespace l4lb
