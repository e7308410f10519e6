// The network the packet fuzzer drives: the native test lab's ring ports and two workers
// (test/lab.h), so frames also cross between workers, under a configuration compiled the way
// Dataplane::apply() compiles one (compile_snapshot): a client-side NIC with its kernel tap and
// a server-side NIC, each on an IPv4 and an IPv6 network; on an IPv4 and an IPv6 VIP, TCP
// services passing the client address by none, TOA, PROXY v1 and PROXY v2 and UDP services
// with none and PROXY v2, each to real servers of its family through a pool of two local
// addresses of that family; NAT64 services (TCP, UDP) from the IPv6 VIP to the IPv4 servers;
// a service with no usable real server, a disabled one; small local port ranges, and session
// sync on. Small session tables and port ranges let full tables and exhausted ports happen,
// and keep memory flat.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "lab.h"
#include "sessions.h"
#include "snapshot.h"
#include "sync_record.h"

namespace fuzz {

enum class Ingress : uint8_t { client, server, kernel };

// How a frame sits in its buffers: room before it, room after it, and where a second segment
// starts (0: one segment).
struct Layout {
  uint16_t headroom = RTE_PKTMBUF_HEADROOM;
  bool tailroom = true;
  uint16_t split = 0;
};

class FuzzLab {
 public:
  FuzzLab();
  ~FuzzLab();

  // Receives `frame` on `ingress`, queue `queue` (so worker `queue` reads it), lets both
  // workers run, then checks and frees everything they sent (frame_checks.h). `checked`: the
  // frame's checksums were made valid, so whatever leaves with it must still have valid ones
  // (a frame from the kernel is held to nothing: it leaves as it came).
  void feed(Ingress ingress, uint16_t queue, const std::vector<uint8_t>& frame, const Layout& layout, bool checked);
  // Receives wire records from a sync peer, sent `age_ms` ago: each one the appliance would
  // accept (accept_sync_record, as Dataplane::ingest_sync) goes to its owner's ingest ring;
  // then both workers run and install them, and what they sent is checked as after feed().
  void feed_peer(const uint8_t* records, size_t size, uint64_t age_ms);
  void advance(uint64_t ms);
  // Live sessions of both workers, for aiming frames at established flows.
  std::vector<const l4lb::Session*> sessions() const;
  // A fresh lab: empty tables, same configuration. Aborts if an mbuf is missing from the pool
  // once the old lab went away (as feed() does when one is neither free nor held).
  void reset();
  // Called with every sync event the workers write (they are otherwise read and forgotten).
  std::function<void(const l4lb::SyncEvent&)> on_sync_event;

 private:
  void build();
  void drain();
  uint32_t held() const;
  void check_pool(uint32_t held) const;

  std::unique_ptr<lab::Lab> lab_;
  std::vector<l4lb::Address> own_;   // every port's VIPs and local addresses: the sources of what leaves
  l4lb::IdMap service_ids_{l4lb::kMaxServices}, backend_ids_{l4lb::kMaxBackends};
};

}  // namespace fuzz
