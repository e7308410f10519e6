// The wire record of docs/sync.md, byte by byte. Not on the packet path: the control thread
// encodes what workers queued and decodes what peers sent (≈30 ns a record either way).
#include "sync_record.h"

#include <netinet/in.h>

#include "big_endian.h"
#include "client_address.h"
#include "flow.h"
#include "sessions.h"

namespace l4lb {

namespace {

constexpr uint8_t kLastState = static_cast<uint8_t>(TcpState::udp);
constexpr uint8_t kWireFlags = kSessionClientAddress | kSessionAddressPassed;

}  // namespace

const char* sync_drop_name(SyncDrop d) {
  static const char* names[] = {"malformed",       "version",     "expired",
                                "not_owner",       "ingest_full", "unknown_service",
                                "service_not_synced", "unknown_server", "unknown_local_address",
                                "conflict",        "table_full",  "no_route"};
  static_assert(sizeof(names) / sizeof(names[0]) == static_cast<size_t>(SyncDrop::count_));
  return names[static_cast<int>(d)];
}

void encode_sync_record(const SyncEvent& e, uint32_t node, uint32_t sequence, uint8_t* out) {
  out[0] = kSyncVersion;
  out[1] = static_cast<uint8_t>(e.kind);
  out[2] = e.protocol;
  out[3] = e.state;
  out[4] = e.flags & kWireFlags;
  out[5] = 0;
  put16(out + 6, e.worker);
  put32(out + 8, node);
  put32(out + 12, sequence);
  put32(out + 16, e.client_address);
  put32(out + 20, e.virtual_address);
  put32(out + 24, e.local_address);
  put32(out + 28, e.server_address);
  put16(out + 32, e.client_port);
  put16(out + 34, e.virtual_port);
  put16(out + 36, e.local_port);
  put16(out + 38, e.server_port);
  put32(out + 40, uint32_t(e.seq_delta));
  put32(out + 44, e.client_first_seq);
  put32(out + 48, e.client_next_seq);
  put32(out + 52, e.server_next_seq);
  put32(out + 56, e.timeout_s);
  put32(out + 60, e.remaining_ms);
}

bool decode_sync_record(const uint8_t* in, SyncEvent* e, SyncDrop* why) {
  if (in[0] != kSyncVersion) {
    *why = SyncDrop::version;
    return false;
  }
  e->kind = static_cast<SyncKind>(in[1]);
  e->protocol = in[2];
  e->state = in[3];
  e->flags = in[4];
  e->worker = get16(in + 6);
  e->node = get32(in + 8);
  e->sequence = get32(in + 12);
  e->client_address = get32(in + 16);
  e->virtual_address = get32(in + 20);
  e->local_address = get32(in + 24);
  e->server_address = get32(in + 28);
  e->client_port = get16(in + 32);
  e->virtual_port = get16(in + 34);
  e->local_port = get16(in + 36);
  e->server_port = get16(in + 38);
  e->seq_delta = int32_t(get32(in + 40));
  e->client_first_seq = get32(in + 44);
  e->client_next_seq = get32(in + 48);
  e->server_next_seq = get32(in + 52);
  e->timeout_s = get32(in + 56);
  e->remaining_ms = get32(in + 60);
  bool tcp = e->protocol == IPPROTO_TCP, udp = e->protocol == IPPROTO_UDP;
  bool state_fits = tcp ? e->state < kLastState : e->state == kLastState;
  bool ok = in[1] >= 1 && in[1] <= 4 && (tcp || udp) && state_fits && in[5] == 0 && !(e->flags & ~kWireFlags) &&
            e->client_port && e->virtual_port && e->local_port && e->server_port;
  if (!ok) *why = SyncDrop::malformed;
  return ok;
}

bool accept_sync_record(const uint8_t* in, uint64_t age_ms, uint16_t workers, SyncEvent* e, SyncDrop* why) {
  if (!decode_sync_record(in, e, why)) return false;
  if (e->kind != SyncKind::close && e->remaining_ms <= age_ms) {
    *why = SyncDrop::expired;
    return false;
  }
  e->remaining_ms = e->kind == SyncKind::close ? 0 : uint32_t(e->remaining_ms - age_ms);
  uint16_t owner = owner_of_client(e->client_address, e->client_port, workers);
  if (e->worker != owner || owner_of_local_port(e->local_port, workers) != owner) {
    *why = SyncDrop::not_owner;
    return false;
  }
  return true;
}

}  // namespace l4lb
