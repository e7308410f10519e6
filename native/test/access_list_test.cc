// Allow and deny lists: the lookup against a brute-force reference (most specific entry wins,
// both families), and the worker's use of it: a refused SYN or datagram opens no session,
// sends nothing and is counted by reason; an admitted one goes through; an open session is
// never asked again; a service without lists is untouched.
#include <random>

#include "access_list.h"
#include "check.h"
#include "lab.h"
#include "sessions.h"

using namespace l4lb;
using namespace lab;

namespace {

bool covers(const Prefix& p, const Address& a) {
  const Address m = p.mask();
  return p.address.is_v4() == a.is_v4() && ((p.address.high ^ a.high) & m.high) == 0 &&
         ((p.address.low ^ a.low) & m.low) == 0;
}

// The rule read literally: every entry looked at, the longest covering one decides, deny on a tie.
Access reference(const std::vector<Prefix>& allow, const std::vector<Prefix>& deny, const Address& client) {
  int best = -1;
  bool denied = false;
  auto consider = [&](const std::vector<Prefix>& list, bool is_deny) {
    for (const Prefix& p : list) {
      if (!covers(p, client) || p.length < best) continue;
      denied = (p.length == best && denied) || is_deny;
      best = p.length;
    }
  };
  consider(allow, false);
  consider(deny, true);
  if (best >= 0) return denied ? Access::denied : Access::admitted;
  return allow.empty() ? Access::admitted : Access::not_allowed;
}

// Addresses under a few bases, so that random prefixes nest and overlap.
Address random_address(std::mt19937_64& rng, bool v4) {
  if (v4) return Address::v4(uint32_t(0x0a000000u | (rng() & 0x0003ffffu) | (rng() % 3) << 24));
  uint8_t bytes[16] = {0x20, 0x01, 0x0d, 0xb8};
  bytes[4] = uint8_t(rng() % 3);
  for (int i = 5; i < 16; ++i) bytes[i] = rng() % 4 ? 0 : uint8_t(rng());
  bytes[15] = uint8_t(rng());
  return Address::v6(bytes);
}

Prefix random_prefix(std::mt19937_64& rng, bool v4) {
  static const uint8_t v4_lengths[] = {8, 14, 16, 20, 24, 30, 32}, v6_lengths[] = {32, 40, 48, 64, 96, 120, 128};
  uint8_t length = rng() % 8 ? (v4 ? v4_lengths : v6_lengths)[rng() % 7] : uint8_t(rng() % (v4 ? 33 : 129));
  return Prefix{random_address(rng, v4), length}.network();
}

Prefix host(const Address& a) { return Prefix{a, uint8_t(a.is_v4() ? 32 : 128)}; }

Settings with_lists(uint32_t service, std::vector<Prefix> allow, std::vector<Prefix> deny) {
  Settings s;
  s.access[service] = AccessList(allow, deny);
  return s;
}

// Sends one new flow from the lab's client of `service`'s family, polls, and returns whether
// it reached a real server; a refused one must leave no session and send nothing.
bool reaches_server(Lab& lab, uint32_t service) {
  const bool v6 = service == kTcp6Service || service == kUdp6Service;
  const bool udp = service == kUdpService || service == kUdp6Service;
  packets::Ends ends = v6 ? from_client6(41000, udp ? kUdpPort : kTcpPort) : from_client(41000, udp ? kUdpPort : kTcpPort);
  client_port().inject(udp ? packets::udp(ends) : packets::tcp(ends, kSyn, 1000, 0));
  const size_t before = lab.worker().sessions->size();
  lab.poll();
  const size_t to_server = sent_frames(server_port()).size(), to_client = sent_frames(client_port()).size();
  const bool through = lab.worker().sessions->size() == before + 1;
  CHECK_EQ(to_server, size_t(through ? 1 : 0));
  CHECK_EQ(to_client, size_t(0));
  return through;
}

}  // namespace

TEST(access_list_most_specific_entry_decides_as_the_reference_does) {
  std::mt19937_64 rng(20);
  for (int round = 0; round < 6; ++round) {
    std::vector<Prefix> allow, deny;
    const int entries = round < 2 ? round * 3 : 400 * round;   // empty, a handful, then hundreds
    for (int i = 0; i < entries; ++i) {
      const bool v4 = rng() % 2;
      (rng() % 2 ? allow : deny).push_back(random_prefix(rng, v4));
    }
    if (round == 3) allow.clear();   // deny only: what matches nothing is admitted
    AccessList list(allow, deny);
    CHECK_EQ(list.empty(), allow.empty() && deny.empty());
    for (int i = 0; i < 20000; ++i) {
      const Address client = random_address(rng, rng() % 2);
      const Access want = reference(allow, deny, client), got = list.check(client);
      if (got != want) {
        CHECK_EQ(int(got), int(want));
        CHECK(format_address(client) == "");   // names the address in the failure
        return;
      }
    }
  }
}

TEST(access_list_families_do_not_cross) {
  // 0.0.0.0/0 is IPv4's everything, ::/0 IPv6's: neither holds the other family's clients.
  AccessList v4_only({Prefix{Address::v4(0), 0}}, {});
  CHECK(v4_only.check(kClient) == Access::admitted);
  CHECK(v4_only.check(kClient6) == Access::not_allowed);
  AccessList v6_denied({}, {Prefix{Address(), 0}});
  CHECK(v6_denied.check(kClient6) == Access::denied);
  CHECK(v6_denied.check(kClient) == Access::admitted);
}

TEST(access_list_denied_syn_opens_no_session_and_is_counted) {
  Lab lab(1, 1024, with_lists(kTcpService, {Prefix{packets::ip(10, 0, 0, 0), 24}}, {host(kClient)}));
  lab.seed_neighbours();
  CHECK(!reaches_server(lab, kTcpService));
  const ServiceCounters& sc = lab.worker().counters->services[kTcpService];
  CHECK_EQ(sc.refused_denied, uint64_t(1));
  CHECK_EQ(sc.refused_not_allowed, uint64_t(0));
  CHECK_EQ(sc.new_sessions, uint64_t(0));
  CHECK_EQ(lab.drops(Drop::access_list), uint64_t(1));
  CHECK(reaches_server(lab, kUdpService));   // the other service has no lists
}

TEST(access_list_client_outside_the_allow_list_is_not_allowed) {
  Lab lab(1, 1024, with_lists(kTcpService, {Prefix{packets::ip(10, 9, 0, 0), 16}}, {}));
  lab.seed_neighbours();
  CHECK(!reaches_server(lab, kTcpService));
  CHECK_EQ(lab.worker().counters->services[kTcpService].refused_not_allowed, uint64_t(1));
  CHECK_EQ(lab.drops(Drop::access_list), uint64_t(1));
}

TEST(access_list_allowed_client_goes_through_past_a_wider_deny) {
  Lab lab(1, 1024, with_lists(kTcpService, {Prefix{packets::ip(10, 0, 0, 0), 24}}, {Prefix{packets::ip(10, 0, 0, 0), 8}}));
  lab.seed_neighbours();
  CHECK(reaches_server(lab, kTcpService));
  CHECK_EQ(lab.worker().counters->services[kTcpService].new_sessions, uint64_t(1));
  CHECK_EQ(lab.drops(Drop::access_list), uint64_t(0));
}

TEST(access_list_udp_and_ipv6_flows_are_refused_too) {
  Settings s = with_lists(kUdpService, {}, {Prefix{packets::ip(10, 0, 0, 0), 30}});
  s.access[kTcp6Service] = AccessList({Prefix{packets::ip6("2001:db8:ffff::"), 48}}, {});
  s.access[kUdp6Service] = AccessList({Prefix{packets::ip6("2001:db8::"), 64}}, {host(kClient6)});
  Lab lab(1, 1024, s);
  lab.seed_neighbours();
  CHECK(!reaches_server(lab, kUdpService));
  CHECK(!reaches_server(lab, kTcp6Service));
  CHECK(!reaches_server(lab, kUdp6Service));
  const ServiceCounters* sc = lab.worker().counters->services;
  CHECK_EQ(sc[kUdpService].refused_denied, uint64_t(1));
  CHECK_EQ(sc[kTcp6Service].refused_not_allowed, uint64_t(1));
  CHECK_EQ(sc[kUdp6Service].refused_denied, uint64_t(1));
  CHECK(reaches_server(lab, kTcpService));   // no lists
}

TEST(access_list_is_not_asked_for_an_open_session) {
  Lab lab;
  lab.seed_neighbours();
  CHECK(reaches_server(lab, kUdpService));
  lab.publish(snapshot(with_lists(kUdpService, {}, {host(kClient)})));
  client_port().inject(packets::udp(from_client(41000, kUdpPort)));
  lab.poll();
  CHECK_EQ(sent_frames(server_port()).size(), size_t(1));   // the session's datagram goes on
  CHECK_EQ(lab.worker().counters->services[kUdpService].refused_denied, uint64_t(0));
  client_port().inject(packets::udp(from_client(41001, kUdpPort)));   // a new flow is refused
  lab.poll();
  CHECK_EQ(sent_frames(server_port()).size(), size_t(0));
  CHECK_EQ(lab.worker().counters->services[kUdpService].refused_denied, uint64_t(1));
}
