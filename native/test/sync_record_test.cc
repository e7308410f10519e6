// The session-sync wire record (docs/sync.md): round trips of IPv4, IPv6 and NAT64 sessions
// with the fields at their offsets, refusals (another format version, malformed fields,
// addresses no session can have), and acceptance by the worker that owns the flow.
#include <cstring>

#include "big_endian.h"
#include "check.h"
#include "client_address.h"
#include "flow.h"
#include "lab.h"
#include "sync_events.h"
#include "sync_record.h"

using namespace l4lb;
using lab::peer_event;

namespace {

constexpr uint32_t kNode = 0xa1b2c3d4, kSequence = 77;

// An established TCP session of the lab's service whose PROXY v2 header went out (a 28-byte
// shift), its sequence numbers near their wraps.
SyncEvent sample_event() {
  SyncEvent e = peer_event();
  e.kind = SyncKind::update;
  e.flags = kSessionProxyV2 | kSessionAddressPassed;
  e.worker = 3;
  e.seq_delta = 28;
  e.client_first_seq = 0xfffffff0;
  e.client_next_seq = 7;
  e.server_next_seq = 0x80000000;
  return e;
}

Address address(const char* text) {
  Address a;
  CHECK(parse_address(text, &a));
  return a;
}

// sample_event() with its client side in IPv6, and its server side too unless `nat64`.
SyncEvent ipv6_event(bool nat64 = false) {
  SyncEvent e = sample_event();
  e.client_address = address("2001:db8:c::1");
  e.virtual_address = address("2001:db8:f::100");
  if (!nat64) {
    e.local_address = address("2001:db8:1::2");
    e.server_address = address("2001:db8:1::11");
  }
  return e;
}

// Encodes `e` into `wire` and decodes it into `back`: why it was refused, SyncDrop::count_ if not.
SyncDrop round_trip(const SyncEvent& e, uint8_t* wire, SyncEvent* back) {
  encode_sync_record(e, kNode, kSequence, wire);
  SyncDrop why = SyncDrop::count_;
  return decode_sync_record(wire, back, &why) ? SyncDrop::count_ : why;
}

// Whether `back` is `e` field for field, with the node and sequence stamped in.
bool came_back(SyncEvent e, const SyncEvent& back) {
  e.node = kNode;
  e.sequence = kSequence;
  return std::memcmp(&e, &back, sizeof e) == 0;
}

// Whether the record holds `e`'s four addresses at offsets 12..75, as Address holds them.
bool addresses_in_place(const SyncEvent& e, const uint8_t* wire) {
  uint8_t addresses[4][16];
  e.client_address.copy_to(addresses[0]);
  e.virtual_address.copy_to(addresses[1]);
  e.local_address.copy_to(addresses[2]);
  e.server_address.copy_to(addresses[3]);
  return std::memcmp(wire + 12, addresses, sizeof addresses) == 0;
}

}  // namespace

TEST(sync_record_round_trips_an_ipv4_session) {
  SyncEvent e = sample_event(), back;
  e.client_address = address("192.0.2.1");
  uint8_t wire[kSyncRecordSize];
  CHECK(round_trip(e, wire, &back) == SyncDrop::count_);
  CHECK(came_back(e, back));
  CHECK_EQ(back.seq_delta, 28);
  // docs/sync.md's layout, in network byte order.
  CHECK_EQ(int(wire[0]), 2);
  CHECK_EQ(int(wire[1]), int(SyncKind::update));
  CHECK_EQ(int(wire[2]), int(IPPROTO_TCP));
  CHECK_EQ(get32(wire + 4), kNode);
  CHECK_EQ(get32(wire + 8), kSequence);
  const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
  CHECK(std::memcmp(wire + 12, mapped, sizeof mapped) == 0);
  CHECK(addresses_in_place(e, wire));
  CHECK_EQ(get16(wire + 76), e.client_port);
  CHECK_EQ(get16(wire + 82), e.server_port);
  CHECK_EQ(get32(wire + 84), 28u);
  CHECK_EQ(get32(wire + 88), 0xfffffff0u);
  CHECK_EQ(get32(wire + 104), e.remaining_ms);
  CHECK_EQ(get16(wire + 108), uint16_t(3));
  CHECK_EQ(int(wire[110]), int(kSessionProxyV2 | kSessionAddressPassed));
}

TEST(sync_record_round_trips_an_ipv6_session) {
  SyncEvent e = ipv6_event(), back;
  uint8_t wire[kSyncRecordSize];
  CHECK(round_trip(e, wire, &back) == SyncDrop::count_);
  CHECK(came_back(e, back));
  CHECK(addresses_in_place(e, wire));
  CHECK_EQ(int(wire[12]), 0x20);   // 2001:db8:c::1
  CHECK_EQ(int(wire[27]), 0x01);
  CHECK(!back.client_address.is_v4() && !back.server_address.is_v4());
  CHECK(back.server_address == address("2001:db8:1::11"));
}

TEST(sync_record_round_trips_a_nat64_session) {
  SyncEvent e = ipv6_event(true), back;
  uint8_t wire[kSyncRecordSize];
  CHECK(round_trip(e, wire, &back) == SyncDrop::count_);
  CHECK(came_back(e, back));
  CHECK(addresses_in_place(e, wire));
  CHECK(!back.client_address.is_v4() && !back.virtual_address.is_v4());
  CHECK(back.local_address.is_v4() && back.server_address.is_v4());
}

TEST(sync_record_refuses_other_versions_and_malformed_fields) {
  uint8_t good[kSyncRecordSize];
  encode_sync_record(sample_event(), 1, 1, good);
  auto refused = [&](size_t offset, uint8_t value) {
    uint8_t wire[kSyncRecordSize];
    std::memcpy(wire, good, sizeof(wire));
    wire[offset] = value;
    SyncEvent e;
    SyncDrop why = SyncDrop::count_;
    return decode_sync_record(wire, &e, &why) ? SyncDrop::count_ : why;
  };
  CHECK(refused(0, 1) == SyncDrop::version);         // a version 1 record: another layout
  CHECK(refused(0, 3) == SyncDrop::version);
  CHECK(refused(1, 0) == SyncDrop::malformed);       // kind
  CHECK(refused(1, 5) == SyncDrop::malformed);
  CHECK(refused(2, 1) == SyncDrop::malformed);       // ICMP
  CHECK(refused(3, 9) == SyncDrop::malformed);       // a TCP session in the UDP state
  CHECK(refused(3, 12) == SyncDrop::malformed);
  CHECK(refused(110, 0x80) == SyncDrop::malformed);  // unknown flag
  CHECK(refused(110, kSessionFromPeer) == SyncDrop::malformed);
  CHECK(refused(76, 0) == SyncDrop::count_);         // high byte of the client port alone is fine
  for (size_t port = 76; port < 84; port += 2) {     // client, virtual, local, server port 0
    uint8_t zero_port[kSyncRecordSize];
    std::memcpy(zero_port, good, sizeof(zero_port));
    zero_port[port] = zero_port[port + 1] = 0;
    SyncEvent e;
    SyncDrop why = SyncDrop::count_;
    CHECK(!decode_sync_record(zero_port, &e, &why) && why == SyncDrop::malformed);
  }
}

TEST(sync_record_refuses_addresses_no_session_can_have) {
  auto verdict = [](const SyncEvent& e) {
    uint8_t wire[kSyncRecordSize];
    SyncEvent back;
    return round_trip(e, wire, &back);
  };
  SyncEvent v4 = sample_event(), v6 = ipv6_event();
  SyncEvent vip_v6 = v4, client_v4 = v6, local_v6 = v4, server_v4 = v6;
  vip_v6.virtual_address = v6.virtual_address;   // a client side of two families
  client_v4.client_address = v4.client_address;
  local_v6.local_address = v6.local_address;     // a server side of two families
  server_v4.server_address = v4.server_address;
  CHECK(verdict(vip_v6) == SyncDrop::malformed);
  CHECK(verdict(client_v4) == SyncDrop::malformed);
  CHECK(verdict(local_v6) == SyncDrop::malformed);
  CHECK(verdict(server_v4) == SyncDrop::malformed);
  SyncEvent four_to_six = v4;                    // IPv4 clients to IPv6 servers: not translated
  four_to_six.local_address = v6.local_address;
  four_to_six.server_address = v6.server_address;
  CHECK(verdict(four_to_six) == SyncDrop::malformed);
  for (const SyncEvent& base : {v4, v6}) {       // 0.0.0.0 or :: anywhere
    Address none = base.client_address.is_v4() ? Address::v4(0) : Address();
    for (Address SyncEvent::*field : {&SyncEvent::client_address, &SyncEvent::virtual_address,
                                      &SyncEvent::local_address, &SyncEvent::server_address}) {
      SyncEvent unset = base;
      unset.*field = none;
      CHECK(verdict(unset) == SyncDrop::malformed);
    }
  }
}

TEST(sync_record_is_accepted_by_the_owner_of_its_flow_with_its_age_taken_off) {
  constexpr uint16_t kWorkers = 2;
  SyncEvent e = sample_event();
  e.worker = owner_of_client(e.client_address, e.client_port, kWorkers);
  while (owner_of_local_port(e.local_port, kWorkers) != e.worker) ++e.local_port;
  auto accepted = [&](const SyncEvent& sent, uint64_t age_ms, SyncEvent* got) {
    uint8_t wire[kSyncRecordSize];
    encode_sync_record(sent, 1, 1, wire);
    SyncDrop why = SyncDrop::count_;
    return accept_sync_record(wire, age_ms, kWorkers, got, &why) ? SyncDrop::count_ : why;
  };
  SyncEvent got;
  CHECK(accepted(e, 500, &got) == SyncDrop::count_);
  CHECK_EQ(got.worker, e.worker);
  CHECK_EQ(got.remaining_ms, 89'000u);
  CHECK(accepted(e, 89'500, &got) == SyncDrop::expired);
  SyncEvent close = e;
  close.kind = SyncKind::close;
  CHECK(accepted(close, 100'000, &got) == SyncDrop::count_);   // a close is never too old
  CHECK_EQ(got.remaining_ms, 0u);
  SyncEvent other_worker = e;
  other_worker.worker = uint16_t(1 - e.worker);
  CHECK(accepted(other_worker, 0, &got) == SyncDrop::not_owner);
  SyncEvent other_slice = e;
  ++other_slice.local_port;                                   // the other worker's port
  CHECK(accepted(other_slice, 0, &got) == SyncDrop::not_owner);
  SyncEvent six = ipv6_event(true);                           // the owner of an IPv6 client
  six.worker = owner_of_client(six.client_address, six.client_port, kWorkers);
  while (owner_of_local_port(six.local_port, kWorkers) != six.worker) ++six.local_port;
  CHECK(accepted(six, 0, &got) == SyncDrop::count_);
  CHECK(got.client_address == six.client_address);
  uint8_t old_version[kSyncRecordSize];
  encode_sync_record(e, 1, 1, old_version);
  old_version[0] = 0;
  SyncDrop why;
  CHECK(!accept_sync_record(old_version, 0, kWorkers, &got, &why) && why == SyncDrop::version);
}
