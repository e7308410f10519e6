// The numbering of plan.h.
#include "plan.h"

#include <cstring>
#include <stdexcept>

namespace bench {

using l4lb::Address;

Address address(const char* text) {
  Address a;
  if (!l4lb::parse_address(text, &a)) throw std::logic_error(std::string("not an address: ") + text);
  return a;
}

namespace {

// The last 32 bits of an address, in host order, and the address with other last 32 bits.
uint32_t last_word(const Address& a) {
  uint32_t be;
  std::memcpy(&be, reinterpret_cast<const uint8_t*>(&a.low) + 4, 4);
  return rte_be_to_cpu_32(be);
}

Address with_last_word(Address a, uint32_t word) {
  const uint32_t be = rte_cpu_to_be_32(word);
  std::memcpy(reinterpret_cast<uint8_t*>(&a.low) + 4, &be, 4);
  return a;
}

std::vector<Plan> make_plans() {
  const Address v4_clients = address("198.18.0.0"), v6_clients = address("2001:db8:c000::");
  const Address v4_gateway = address("10.0.0.1"), v6_gateway = address("2001:db8::1");
  const Address v4_vip = address("10.0.0.100"), v6_vip = address("2001:db8::100");
  const Address v4_servers = address("10.1.1.1"), v6_servers = address("2001:db8:1::1");
  const Address v4_locals = address("10.1.2.1"), v6_locals = address("2001:db8:1:2::1");
  return {
      {"IPv4", "ipv4", v4_clients, v4_gateway, v4_vip, 80, v4_servers, v4_locals, "locals"},
      {"IPv6", "ipv6", v6_clients, v6_gateway, v6_vip, 80, v6_servers, v6_locals, "locals6"},
      {"NAT64", "nat64", v6_clients, v6_gateway, v6_vip, 81, v4_servers, v4_locals, "locals"},
      {"IPv4 allow-list", "ipv4_allow_list", v4_clients, v4_gateway, v4_vip, 82, v4_servers, v4_locals, "locals", 50000},
  };
}

}  // namespace

const std::vector<Plan>& plans() {
  static const std::vector<Plan> all = make_plans();
  return all;
}

const Plan& ipv4_plan() { return plans()[0]; }
const Plan& ipv6_plan() { return plans()[1]; }

Address nth(const Address& base, uint32_t n) { return with_last_word(base, last_word(base) + n); }

uint32_t index_of(const Address& a, const Address& base) {
  if (with_last_word(a, 0) != with_last_word(base, 0)) return 0xffffffff;
  return last_word(a) - last_word(base);
}

}  // namespace bench
