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

// The 16 bytes exactly as Address holds them, whatever the family (IPv4-mapped for IPv4).
Address get_address(const uint8_t* p) { return Address::v6(p); }

// Each side of the translation is of one family. Across them an IPv6 client side may meet an
// IPv4 server side (NAT64), never the reverse, which l4lb does not translate; and no address
// is unset. A record that fails this names no session any peer could have opened.
bool addresses_fit(const SyncEvent& e) {
  bool client_v4 = e.client_address.is_v4(), server_v4 = e.server_address.is_v4();
  bool set = !e.client_address.is_unset() && !e.virtual_address.is_unset() && !e.local_address.is_unset() &&
             !e.server_address.is_unset();
  return set && e.virtual_address.is_v4() == client_v4 && e.local_address.is_v4() == server_v4 && (server_v4 || !client_v4);
}

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
  put32(out + 4, node);
  put32(out + 8, sequence);
  e.client_address.copy_to(out + 12);
  e.virtual_address.copy_to(out + 28);
  e.local_address.copy_to(out + 44);
  e.server_address.copy_to(out + 60);
  put16(out + 76, e.client_port);
  put16(out + 78, e.virtual_port);
  put16(out + 80, e.local_port);
  put16(out + 82, e.server_port);
  put32(out + 84, uint32_t(e.seq_delta));
  put32(out + 88, e.client_first_seq);
  put32(out + 92, e.client_next_seq);
  put32(out + 96, e.server_next_seq);
  put32(out + 100, e.timeout_s);
  put32(out + 104, e.remaining_ms);
  put16(out + 108, e.worker);
  out[110] = e.flags & kWireFlags;
}

bool decode_sync_record(const uint8_t* in, SyncEvent* e, SyncDrop* why) {
  if (in[0] != kSyncVersion) {
    *why = SyncDrop::version;
    return false;
  }
  e->kind = static_cast<SyncKind>(in[1]);
  e->protocol = in[2];
  e->state = in[3];
  e->node = get32(in + 4);
  e->sequence = get32(in + 8);
  e->client_address = get_address(in + 12);
  e->virtual_address = get_address(in + 28);
  e->local_address = get_address(in + 44);
  e->server_address = get_address(in + 60);
  e->client_port = get16(in + 76);
  e->virtual_port = get16(in + 78);
  e->local_port = get16(in + 80);
  e->server_port = get16(in + 82);
  e->seq_delta = int32_t(get32(in + 84));
  e->client_first_seq = get32(in + 88);
  e->client_next_seq = get32(in + 92);
  e->server_next_seq = get32(in + 96);
  e->timeout_s = get32(in + 100);
  e->remaining_ms = get32(in + 104);
  e->worker = get16(in + 108);
  e->flags = in[110];
  bool tcp = e->protocol == IPPROTO_TCP, udp = e->protocol == IPPROTO_UDP;
  bool state_fits = tcp ? e->state < kLastState : e->state == kLastState;
  bool ok = in[1] >= 1 && in[1] <= 4 && (tcp || udp) && state_fits && !(e->flags & ~kWireFlags) &&
            e->client_port && e->virtual_port && e->local_port && e->server_port && addresses_fit(*e);
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
