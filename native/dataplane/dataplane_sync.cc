// Session sync, control-thread side (docs/sync.md): drains the workers' sync rings into wire
// records, checks peer records and routes each to the worker that owns its flow here, and
// walks the tables for full snapshots. Workers do the rest (sync_events.cc).
//
// Ownership is what makes a peer's session usable here: its client hashes to one worker
// (owner_of_client) and its local port belongs to the same worker's slice
// (owner_of_local_port). Both hold on the origin by construction; they hold here only when
// both nodes have the same worker count, so a record that breaks them is refused (not_owner)
// rather than installed where no packet of the flow would ever look.
//
// A full ingest ring (a snapshot arriving faster than a worker installs, ~4 M/s) makes the
// control thread wait for room, up to kIngestWait per call: Redis then holds the rest in
// its socket buffers instead of records being lost. Only a worker stuck for that long
// loses records (ingest_full), and a snapshot request repairs it.
#include <chrono>
#include <thread>

#include <rte_ring_elem.h>

#include "dataplane_impl.h"
#include "sessions.h"
#include "sync_record.h"

namespace l4lb {

namespace {

constexpr auto kIngestWait = std::chrono::milliseconds(50);
constexpr auto kIngestRetry = std::chrono::microseconds(20);

// Enqueues `e`, waiting for room until `deadline`.
bool enqueue_until(rte_ring* ring, SyncEvent& e, std::chrono::steady_clock::time_point deadline) {
  while (rte_ring_sp_enqueue_elem(ring, &e, sizeof(e)) != 0) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kIngestRetry);
  }
  return true;
}

}  // namespace

size_t Dataplane::drain_sync(size_t max, uint32_t node, uint32_t first_sequence, std::vector<uint8_t>& out) {
  Impl& d = *impl_;
  SyncEvent events[64];
  size_t drained = 0;
  for (auto& w : d.workers) {
    while (drained < max) {
      unsigned want = unsigned(std::min<size_t>(64, max - drained));
      unsigned n = rte_ring_sc_dequeue_burst_elem(w->sync_out, events, sizeof(SyncEvent), want, nullptr);
      if (n == 0) break;
      size_t at = out.size();
      out.resize(at + n * kSyncRecordSize);
      for (unsigned i = 0; i < n; ++i)
        encode_sync_record(events[i], node, first_sequence + uint32_t(drained + i), &out[at + i * kSyncRecordSize]);
      drained += n;
    }
  }
  return drained;
}

SyncIngestResult Dataplane::ingest_sync(const uint8_t* records, size_t size, uint64_t age_ms) {
  Impl& d = *impl_;
  SyncIngestResult result;
  uint16_t workers = d.options.workers;
  const auto deadline = std::chrono::steady_clock::now() + kIngestWait;
  auto refuse = [&](SyncDrop why) {
    ++d.sync_refused[static_cast<int>(why)];
    ++result.refused;
  };
  for (size_t at = 0; at + kSyncRecordSize <= size; at += kSyncRecordSize) {
    SyncEvent e;
    SyncDrop why;
    if (!accept_sync_record(records + at, age_ms, workers, &e, &why)) {
      refuse(why);
      continue;
    }
    if (!enqueue_until(d.workers[e.worker]->sync_in, e, deadline)) {
      refuse(SyncDrop::ingest_full);
      continue;
    }
    ++result.queued;
  }
  if (size % kSyncRecordSize) refuse(SyncDrop::malformed);   // a torn tail
  if (result.queued) d.ring();   // an idle worker installs them now, not after its sleep
  return result;
}

uint64_t Dataplane::snapshot_sync(uint64_t cursor, uint32_t limit, uint32_t node, std::vector<uint8_t>& out) {
  Impl& d = *impl_;
  size_t worker = size_t(cursor >> 32);
  uint32_t slot = uint32_t(cursor);
  if (worker >= d.workers.size() || limit == 0) return kSnapshotDone;
  WorkerRequest request;
  request.kind = WorkerRequest::Kind::sync_snapshot;
  request.slot = slot;
  request.limit = limit;
  request.events.reserve(limit);
  d.run_on_worker(worker, request);
  size_t at = out.size();
  out.resize(at + request.events.size() * kSyncRecordSize);
  for (size_t i = 0; i < request.events.size(); ++i)
    encode_sync_record(request.events[i], node, 0, &out[at + i * kSyncRecordSize]);
  if (request.slot != kNoSession) return uint64_t(worker) << 32 | request.slot;
  return worker + 1 < d.workers.size() ? uint64_t(worker + 1) << 32 : kSnapshotDone;
}

}  // namespace l4lb
