// Local ports: the worker's slice only, the pool's range, exhaustion, FIFO reuse, reserve.
#include <set>
#include <vector>

#include "check.h"
#include "sessions.h"
#include "snapshot.h"

using namespace l4lb;

namespace {
const Address kLocal = Address::v4(0x0a0a0001), kOtherLocal = Address::v4(0x0a0a0002);

std::vector<uint16_t> allocate_all(LocalPorts& ports, Address address, uint16_t min, uint16_t max) {
  std::vector<uint16_t> got;
  for (uint16_t p; (p = ports.allocate(address, min, max)) != 0;) got.push_back(p);
  return got;
}
}  // namespace

TEST(local_ports_only_own_slice_and_range) {
  LocalPorts ports(1, 4);
  const std::vector<uint16_t> got = allocate_all(ports, kLocal, 1024, 2047);
  CHECK_EQ(got.size(), size_t(256));
  const std::set<uint16_t> unique(got.begin(), got.end());
  CHECK_EQ(unique.size(), got.size());
  for (uint16_t p : got) {
    CHECK_EQ(owner_of_local_port(p, 4), 1);
    CHECK(p >= 1024 && p <= 2047);
  }
  CHECK_EQ(ports.in_use(kLocal), 256u);
  CHECK_EQ(ports.in_use(kOtherLocal), 0u);
}

TEST(local_ports_exhaustion_returns_zero) {
  LocalPorts ports(0, 1);
  CHECK_EQ(allocate_all(ports, kLocal, 5000, 5009).size(), size_t(10));
  CHECK_EQ(ports.allocate(kLocal, 5000, 5009), 0);
  CHECK_EQ(allocate_all(ports, kOtherLocal, 5000, 5009).size(), size_t(10));   // per address
  LocalPorts none_owned(3, 4);
  CHECK_EQ(none_owned.allocate(kLocal, 4000, 4002), 0);   // 4000..4002 hold no port ≡ 3 (mod 4)
  CHECK_EQ(none_owned.allocate(kLocal, 4003, 4003), 4003);
}

TEST(local_ports_range_change_is_respected) {
  LocalPorts ports(1, 2);
  const uint16_t wide = ports.allocate(kLocal, 1024, 2047);
  CHECK(wide >= 1024 && wide <= 2047 && wide % 2 == 1);
  const std::vector<uint16_t> narrow = allocate_all(ports, kLocal, 3000, 3009);
  CHECK_EQ(narrow.size(), size_t(5));
  for (uint16_t p : narrow) CHECK(p >= 3000 && p <= 3009 && p % 2 == 1);

  // Released while the range excludes it: handed out again once the range includes it.
  ports.release(kLocal, wide);
  CHECK_EQ(ports.allocate(kLocal, 3000, 3009), 0);
  const std::vector<uint16_t> back = allocate_all(ports, kLocal, wide, wide);
  CHECK(back.size() == 1 && back[0] == wide);
  CHECK_EQ(ports.allocate(kLocal, 0, 0), 0);   // port 0 is never a port
}

TEST(local_ports_release_reuses_last) {
  LocalPorts ports(0, 1);
  const uint16_t first = ports.allocate(kLocal, 6000, 6009);
  ports.release(kLocal, first);
  CHECK_EQ(ports.in_use(kLocal), 0u);
  const std::vector<uint16_t> rest = allocate_all(ports, kLocal, 6000, 6009);
  CHECK_EQ(rest.size(), size_t(10));
  for (size_t k = 0; k + 1 < rest.size(); ++k) CHECK(rest[k] != first);
  CHECK(!rest.empty() && rest.back() == first);
  ports.release(kLocal, first);
  ports.release(kLocal, first);   // twice: harmless
  CHECK_EQ(ports.in_use(kLocal), 9u);
  CHECK_EQ(ports.allocate(kLocal, 6000, 6009), first);
  ports.release(kOtherLocal, 6000);   // unknown address: harmless
}

TEST(local_ports_reserve) {
  LocalPorts ports(0, 2);
  CHECK(ports.reserve(kLocal, 7002));
  CHECK(!ports.reserve(kLocal, 7002));
  CHECK(!ports.reserve(kLocal, 0));
  CHECK_EQ(ports.in_use(kLocal), 1u);
  std::vector<uint16_t> got = allocate_all(ports, kLocal, 7000, 7009);
  CHECK_EQ(got.size(), size_t(4));
  for (uint16_t p : got) CHECK(p != 7002);
  CHECK(!ports.reserve(kLocal, got[0]));   // allocated ports count as held

  // Reserved while waiting in the ring: skipped, and freed again by release.
  for (uint16_t p : got) ports.release(kLocal, p);
  CHECK(ports.reserve(kLocal, got[1]));
  got = allocate_all(ports, kLocal, 7000, 7009);
  CHECK_EQ(got.size(), size_t(3));
  ports.release(kLocal, 7002);
  CHECK_EQ(ports.allocate(kLocal, 7000, 7009), 7002);
  CHECK_EQ(ports.in_use(kLocal), 5u);
}

TEST(local_ports_start_at_a_random_point) {
  LocalPorts ports(0, 1);
  int lowest = 0;
  for (uint32_t address = 1; address <= 8; ++address) lowest += ports.allocate(Address::v4(address), 10000, 10999) == 10000;
  CHECK(lowest < 8);
}
