// The IPv6 probe address (PortInfo::probe6): what is sent to it, and solicitations for it,
// reach the NIC's kernel side through the tap, on a backup too, and the data plane answers none
// of it; without a tap it is dropped; an address that is not the NIC's probe6 never reaches the
// tap; what the kernel sends leaves by the NIC.
#include <netinet/icmp6.h>

#include <algorithm>
#include <cstring>

#include <rte_ether.h>

#include "check.h"
#include "lab.h"
#include "neighbour.h"
#include "sessions.h"
#include "snapshot_fixture.h"

using namespace l4lb;
using namespace lab;
using packets::Seen;

namespace {

const Address kProbe6 = packets::ip6("2001:db8::250");
constexpr uint8_t kSolicited = 0x40, kOverride = 0x20;

// `source` (at `mac`) asking for `target` at its solicited-node group.
rte_mbuf* asks_for(const Address& target, const Address& source = kClient6, const MacAddress& mac = kClientMac) {
  return packets::solicitation_at_group(target, source, mac);
}

packets::Ends client_to_probe6(uint16_t client_port) {
  packets::Ends e = from_client6(client_port, 22);
  e.destination = kProbe6;
  return e;
}

// The lab's next snapshot with kProbe6 on the client side's NIC, whose tap is `tap`.
std::unique_ptr<Snapshot> with_probe6(Settings settings = {}, uint16_t tap = tap_port().port) {
  settings.generation = 2;
  std::unique_ptr<Snapshot> s = snapshot(settings);
  PortInfo& client = s->ports[client_port().port];
  client.probe6 = kProbe6;
  client.tap = tap;
  return s;
}

const PortCounters& client_counters(Lab& lab) { return lab.worker().counters->ports[client_port().port]; }

}  // namespace

TEST(probe6_traffic_goes_to_the_kernel_and_back) {
  Lab lab;
  lab.publish(with_probe6());
  client_port().inject(packets::tcp(client_to_probe6(50000), kSyn, 1, 0));
  lab.poll();
  std::vector<Seen> to_kernel = sent_frames(tap_port());
  CHECK_EQ(to_kernel.size(), size_t(1));
  if (!to_kernel.empty()) {
    CHECK_EQ(to_kernel[0].destination, kProbe6);
    CHECK_EQ(to_kernel[0].protocol, IPPROTO_TCP);
    CHECK(to_kernel[0].l4_checksum_ok);   // untouched
  }
  CHECK_EQ(client_counters(lab).to_kernel, uint64_t(1));
  CHECK_EQ(lab.worker().sessions->size(), 0u);
  CHECK(sent_frames(client_port()).empty());
  CHECK(sent_frames(server_port()).empty());

  // The kernel's answer and its own solicitation (to a group, from the probe address) go out.
  packets::Ends from_kernel{kClientSideMac, kClientMac, kProbe6, kClient6, 22, 50000};
  tap_port().inject(packets::tcp(from_kernel, kSyn | kAck, 1, 2));
  const Address group = packets::solicited_node(kClient6);
  tap_port().inject(
      packets::neighbour_solicitation(packets::Ends{kClientSideMac, packets::group_mac(group), kProbe6, group}, kClient6));
  lab.poll();
  std::vector<Seen> out = sent_frames(client_port());
  CHECK_EQ(out.size(), size_t(2));
  if (out.size() == 2) {
    CHECK_EQ(out[0].source, kProbe6);
    CHECK_EQ(out[0].protocol, IPPROTO_TCP);
    CHECK_EQ(int(out[1].icmp_type), ND_NEIGHBOR_SOLICIT);
    CHECK_EQ(out[1].destination, group);
    CHECK(packets::same_mac(out[1].destination_mac, packets::group_mac(group)));
  }
  CHECK_EQ(client_counters(lab).from_kernel, uint64_t(2));
  CHECK_EQ(client_counters(lab).nd_out, uint64_t(0));
}

TEST(probe6_traffic_goes_to_the_kernel_on_a_backup) {
  Settings backup;
  backup.backup = true;
  Lab lab(1, 1024, backup);
  lab.publish(with_probe6(backup));
  client_port().inject(packets::tcp(client_to_probe6(50001), kSyn, 1, 0));
  client_port().inject(asks_for(kProbe6));
  client_port().inject(packets::tcp(from_client6(50002), kSyn, 1, 0));   // to the VIP: the active node's
  lab.poll();
  CHECK_EQ(sent_frames(tap_port()).size(), size_t(2));
  CHECK_EQ(client_counters(lab).to_kernel, uint64_t(2));
  CHECK_EQ(lab.drops(Drop::backup), uint64_t(1));
  CHECK(sent_frames(client_port()).empty());
}

TEST(probe6_solicitation_goes_to_the_kernel_unanswered) {
  Lab lab;
  lab.publish(with_probe6());
  client_port().inject(asks_for(kProbe6));
  lab.poll();
  std::vector<Seen> to_kernel = sent_frames(tap_port());
  CHECK_EQ(to_kernel.size(), size_t(1));
  if (!to_kernel.empty()) {
    CHECK_EQ(int(to_kernel[0].icmp_type), ND_NEIGHBOR_SOLICIT);
    CHECK_EQ(to_kernel[0].nd_target, kProbe6);
    CHECK_EQ(to_kernel[0].destination, packets::solicited_node(kProbe6));
  }
  CHECK(sent_frames(client_port()).empty());
  const PortCounters& c = client_counters(lab);
  CHECK_EQ(c.nd_in, uint64_t(1));
  CHECK_EQ(c.nd_out, uint64_t(0));
  CHECK_EQ(c.to_kernel, uint64_t(1));
  CHECK(lab.worker().neighbours->find(kClient6) == nullptr);   // the kernel's neighbour, not ours
}

TEST(probe6_advertisement_reaches_the_kernel) {
  Lab lab;
  lab.publish(with_probe6());
  packets::Ends to_probe{kClientMac, kClientSideMac, kClient6, kProbe6};
  client_port().inject(packets::neighbour_advertisement(to_probe, kClient6, kSolicited | kOverride));
  lab.poll();
  std::vector<Seen> to_kernel = sent_frames(tap_port());
  CHECK_EQ(to_kernel.size(), size_t(1));
  if (!to_kernel.empty()) CHECK_EQ(int(to_kernel[0].icmp_type), ND_NEIGHBOR_ADVERT);
  CHECK(sent_frames(client_port()).empty());
}

TEST(probe6_leaves_solicitations_for_a_vip_to_the_data_plane) {
  Lab lab;
  lab.publish(with_probe6());
  client_port().inject(asks_for(kVip6));
  lab.poll();
  std::vector<Seen> out = sent_frames(client_port());
  CHECK_EQ(out.size(), size_t(1));
  if (!out.empty()) {
    CHECK_EQ(int(out[0].icmp_type), ND_NEIGHBOR_ADVERT);
    CHECK_EQ(out[0].nd_target, kVip6);
    CHECK_EQ(out[0].destination, kClient6);
  }
  CHECK(sent_frames(tap_port()).empty());
  CHECK_EQ(client_counters(lab).to_kernel, uint64_t(0));
}

TEST(probe6_without_a_tap_is_dropped_as_no_service) {
  Lab lab;
  lab.publish(with_probe6({}, kNoPort));
  client_port().inject(packets::tcp(client_to_probe6(50003), kSyn, 1, 0));
  client_port().inject(asks_for(kProbe6));
  lab.poll();
  CHECK(sent_frames(tap_port()).empty());
  CHECK(sent_frames(client_port()).empty());
  CHECK_EQ(lab.drops(Drop::no_service), uint64_t(2));
  CHECK_EQ(client_counters(lab).to_kernel, uint64_t(0));
}

// The lab's NIC has a tap (for its IPv4 probe address) but no probe6.
TEST(probe6_absent_sends_nothing_to_the_kernel) {
  Lab lab;
  client_port().inject(packets::tcp(client_to_probe6(50004), kSyn, 1, 0));
  client_port().inject(asks_for(kProbe6));
  packets::Ends to_unspecified = client_to_probe6(50005);
  to_unspecified.destination = Address();   // what an unset probe6 holds
  client_port().inject(packets::tcp(to_unspecified, kSyn, 1, 0));
  lab.poll();
  CHECK(sent_frames(tap_port()).empty());
  CHECK(sent_frames(client_port()).empty());
  CHECK_EQ(client_counters(lab).to_kernel, uint64_t(0));
  CHECK_EQ(lab.drops(Drop::no_service), uint64_t(3));
}

TEST(probe6_is_compiled_into_its_port_only) {
  snapshot_fixture::Compiler compiler;
  Config config = snapshot_fixture::test_config();
  config.nics[0].probe6 = Prefix{kProbe6, 64};
  const Snapshot& snap = compiler.compile(config);
  CHECK_EQ(snap.port(0)->probe6, kProbe6);
  CHECK(snap.port(2)->probe6.is_unset());
  CHECK(snap.port(0)->owned.end() == std::find(snap.port(0)->owned.begin(), snap.port(0)->owned.end(), kProbe6));
}
