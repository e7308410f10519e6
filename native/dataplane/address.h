// An IP address of either family in one 16-byte value, so that IPv4 and IPv6 share one flow
// key, one session layout and one fast path (DESIGN.md, "Addresses"). The bytes are the
// address in network byte order; an IPv4 address is stored IPv4-mapped (::ffff:a.b.c.d,
// RFC 4291 2.5.5.2), which no IPv6 packet of ours carries (the store refuses that range for
// VIPs, pools and real servers), so an IPv4 flow never equals an IPv6 one.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include <rte_byteorder.h>

namespace l4lb {

struct Address {
  // Two words rather than 16 bytes: compares and hashes in two operations each.
  uint64_t high, low;   // bytes 0..7 and 8..15 as they lie in memory

  // Unset (::). A constructor of its own, so that no integer or brace list becomes an Address
  // by aggregate initialization: the named constructors below say which family is meant.
  constexpr Address() : high(0), low(0) {}

  static Address v4(uint32_t host_order) {
    Address a;
    const uint32_t mapped[2] = {rte_cpu_to_be_32(0x0000ffffu), rte_cpu_to_be_32(host_order)};
    std::memcpy(&a.low, mapped, 8);
    return a;
  }
  static Address v6(const uint8_t* network_order) {
    Address a;
    std::memcpy(&a.high, network_order, 8);
    std::memcpy(&a.low, network_order + 8, 8);
    return a;
  }
  bool is_v4() const {
    uint32_t marker;
    std::memcpy(&marker, &low, 4);
    return high == 0 && marker == rte_cpu_to_be_32(0x0000ffffu);
  }
  // The IPv4 address in host byte order; only for is_v4() addresses.
  uint32_t v4() const {
    uint32_t be;
    std::memcpy(&be, reinterpret_cast<const uint8_t*>(&low) + 4, 4);
    return rte_be_to_cpu_32(be);
  }
  // The IPv4 address as it lies in a header (network byte order).
  uint32_t v4_be() const {
    uint32_t be;
    std::memcpy(&be, reinterpret_cast<const uint8_t*>(&low) + 4, 4);
    return be;
  }
  void copy_to(uint8_t* network_order) const {
    std::memcpy(network_order, &high, 8);
    std::memcpy(network_order + 8, &low, 8);
  }
  // The unspecified address of either family (:: or 0.0.0.0): "none" in configuration.
  bool is_unset() const { return (high == 0 && low == 0) || (is_v4() && v4() == 0); }
  // An integer of the address for hashing: every bit of both words.
  uint64_t mix() const { return high * 0x9e3779b97f4a7c15ull ^ low; }
  // 32 bits standing for the address in the hashes peers must agree on (flow owner, sh, mh):
  // an IPv4 address itself in host order, so those hashes are what they were before IPv6;
  // the four words xor-ed for IPv6.
  uint32_t fold32() const {
    if (is_v4()) return v4();
    uint64_t x = high ^ low;
    return uint32_t(x ^ (x >> 32));
  }

  bool operator==(const Address& o) const { return high == o.high && low == o.low; }
  bool operator!=(const Address& o) const { return !(*this == o); }
  // Numeric order (IPv4 before IPv6), for sorted lists.
  bool operator<(const Address& o) const {
    uint64_t a = rte_be_to_cpu_64(high), b = rte_be_to_cpu_64(o.high);
    return a != b ? a < b : rte_be_to_cpu_64(low) < rte_be_to_cpu_64(o.low);
  }
};

// "10.0.0.1" or "2001:db8::1" (inet_pton); false for anything else.
bool parse_address(const std::string& text, Address* out);
// The text form (inet_ntop): dotted quad for IPv4, RFC 5952 for IPv6.
std::string format_address(const Address& a);
inline std::string to_string(const Address& a) { return format_address(a); }

struct Prefix {
  Address address;
  uint8_t length = 0;  // 0..32 for IPv4, 0..128 for IPv6

  // The prefix with its host bits cleared.
  Prefix network() const {
    Address m = mask();
    Prefix p = *this;
    p.address.high &= m.high;
    p.address.low &= m.low;
    return p;
  }
  // The netmask over all 128 bits (an IPv4 prefix also covers the ::ffff:0:0/96 marker).
  Address mask() const {
    unsigned bits = address.is_v4() ? 96u + length : length;
    Address m;
    m.high = rte_cpu_to_be_64(bits >= 64 ? ~0ull : bits == 0 ? 0 : ~0ull << (64 - bits));
    m.low = rte_cpu_to_be_64(bits <= 64 ? 0 : bits >= 128 ? ~0ull : ~0ull << (128 - bits));
    return m;
  }
};

struct AddressHash {
  size_t operator()(const Address& a) const { return size_t(a.mix() ^ (a.mix() >> 29)); }
};

}  // namespace l4lb
