// This node's sessions per real server, summed over every worker: what a real server's
// maxConnections (like IPVS's upper threshold) is checked against when a new session would go
// to it (ServerLoad, scheduler.h).
//
// Exact, shared by the workers, rather than a share of the limit per worker: a share refuses a
// client on a worker whose share is used up while another worker's lies idle (a limit of 3
// over 2 workers lets one worker take 1 or 2), and limits are small numbers where that shows.
// The price is paid only when a session starts or ends, never per packet: one atomic add when
// a session opens here (or a peer's session is adopted, sync_events.h), one atomic sub when it
// ends, ~20 cycles, ~100 when another worker last wrote the same line (16 servers share one);
// and a relaxed load per limited server a pick looks at. Every session is counted, limited
// server or not, so a limit set later sees the sessions already open. Two workers may both
// see a server one short of its limit and both take it: the limit can be passed by at most
// workers - 1 at the same instant (IPVS, whose check and increment are apart too, has the same).
//
// Sessions installed from a sync peer and not yet touched here (kSessionFromPeer) are not
// counted: most never carry traffic here. They count once a packet adopts them.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "snapshot.h"

namespace l4lb {

struct ServerSessions {
  // By Backend::id (kMaxBackends, 256 KB). An id is reused only after every worker ended the
  // sessions of the server that had it (Snapshot::ended_backends), so its count is back to 0.
  std::unique_ptr<std::atomic<uint32_t>[]> counts{new std::atomic<uint32_t>[kMaxBackends]()};
};

}  // namespace l4lb
