// Session-sync records (docs/sync.md): what a peer needs to carry on a flow it did not open.
//
// A worker writes a SyncEvent (host byte order, 112 bytes) into its sync ring; the control
// thread encodes it into the 111-byte wire record (network byte order, stamped with the node
// id and a sequence number) for Redis. The receiving control thread decodes wire records back
// into SyncEvents, checks them, and queues them to the worker that owns the flow. Peers on
// other hosts and other builds read the same bytes: the wire layout is the contract, the
// struct is not. Addresses cross as Address holds them (IPv4-mapped for IPv4), so a record
// carries either family, or both for NAT64, without a family field.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "address.h"

namespace l4lb {

// Version 1 (IPv4 only, 64 bytes) is refused as SyncDrop::version: its layout differs.
constexpr uint8_t kSyncVersion = 2;
constexpr size_t kSyncRecordSize = 111;

enum class SyncKind : uint8_t { new_session = 1, update = 2, refresh = 3, close = 4 };

struct SyncEvent {
  SyncKind kind = SyncKind::new_session;
  uint8_t protocol = 0;
  uint8_t state = 0;             // TcpState
  uint8_t flags = 0;             // client-address mode and progress (client_address.h)
  uint16_t worker = 0;           // owner on the origin
  uint16_t reserved = 0;
  uint32_t node = 0;             // origin; set when encoded
  uint32_t sequence = 0;         // per origin; set when encoded (0 in snapshots)
  Address client_address, virtual_address, local_address, server_address;
  uint16_t client_port = 0, virtual_port = 0, local_port = 0, server_port = 0;
  int32_t seq_delta = 0;
  uint32_t client_first_seq = 0, client_next_seq = 0, server_next_seq = 0;
  uint32_t timeout_s = 0;        // of the state
  uint32_t remaining_ms = 0;     // until the session would expire on the origin
};
static_assert(sizeof(SyncEvent) == 112, "ring elements are 112 bytes: keep it a multiple of 16");

// Why a wire record was refused before it reached a worker, or by the worker.
enum class SyncDrop : uint8_t {
  malformed,              // bad kind, protocol, state, flags or addresses; zero ports
  version,                // another format version
  expired,                // its remaining time passed on the way
  not_owner,              // the flow's owner here is not its owner on the origin (portability)
  ingest_full,            // the owner's ingest ring stayed full (its worker installed nothing for 50 ms)
  unknown_service,        // no service here with its virtual address, port and protocol
  service_not_synced,     // the service here has sync off
  unknown_server,         // no real server with its address and port in that service
  unknown_local_address,  // its local address is in no pool of that service
  conflict,               // its local port is held here and cannot be freed
  table_full,
  no_route,               // neither the client nor the real server is reachable here
  count_
};
const char* sync_drop_name(SyncDrop d);

// Writes `e` as a wire record into out[0..kSyncRecordSize) with `node` and `sequence` stamped in.
void encode_sync_record(const SyncEvent& e, uint32_t node, uint32_t sequence, uint8_t* out);
// Reads a wire record; false (with the reason) when it is not one this build can apply.
bool decode_sync_record(const uint8_t* in, SyncEvent* e, SyncDrop* why);
// A wire record that arrived `age_ms` after it was sent, checked for a node of `workers`
// workers: decoded, not expired (its remaining time less the age), and owned here by the
// worker that owned it on the origin (e->worker), which holds when both nodes slice flows and
// ports alike. False (with the reason) otherwise.
bool accept_sync_record(const uint8_t* in, uint64_t age_ms, uint16_t workers, SyncEvent* e, SyncDrop* why);

}  // namespace l4lb
