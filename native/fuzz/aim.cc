// The aiming of aim.h.
#include "aim.h"

#include <netinet/icmp6.h>
#include <netinet/in.h>

#include "big_endian.h"

namespace fuzz {

using l4lb::FlowKey;

namespace {

constexpr uint32_t kEth = 14, kIcmp = 8;

// Where an IP header of one family keeps what aiming rewrites.
struct Family {
  bool v6;
  uint32_t header;       // the least (IPv4) or only (IPv6) header length
  uint32_t source, destination, protocol;
  uint8_t icmp;          // its ICMP's protocol number
};
constexpr Family kIpv4{false, 20, 12, 16, 9, IPPROTO_ICMP}, kIpv6{true, 40, 8, 24, 6, IPPROTO_ICMPV6};

uint32_t header_length(const Family& family, const uint8_t* ip) { return family.v6 ? family.header : (ip[0] & 0x0f) * 4u; }

void put_address(const Family& family, uint8_t* at, const l4lb::Address& a) {
  if (family.v6) a.copy_to(at);
  else l4lb::put32(at, a.v4());
}

// Writes `key`'s addresses and protocol into the IP header at `ip`, its ports into what follows.
void write_key(const Family& family, uint8_t* ip, const uint8_t* end, const FlowKey& key) {
  uint32_t header = header_length(family, ip);
  if (header < family.header || ip + header + 4 > end) return;
  put_address(family, ip + family.source, key.source);
  put_address(family, ip + family.destination, key.destination);
  l4lb::put16(ip + header, key.source_port);
  l4lb::put16(ip + header + 2, key.destination_port);
  ip[family.protocol] = key.protocol;
}

FlowKey reversed(const FlowKey& k) { return FlowKey{k.destination, k.source, k.destination_port, k.source_port, k.protocol}; }

}  // namespace

void aim(std::vector<uint8_t>& frame, Ingress ingress, const std::vector<const l4lb::Session*>& live, uint8_t choice) {
  if (frame.size() < kEth) return;
  uint16_t type = uint16_t(frame[12] << 8 | frame[13]);
  if (type != 0x0800 && type != 0x86dd) return;
  const Family& family = type == 0x86dd ? kIpv6 : kIpv4;
  uint8_t* ip = frame.data() + kEth;
  const uint8_t* end = frame.data() + frame.size();
  if (ip + family.header > end) return;
  std::vector<const FlowKey*> keys;
  for (const l4lb::Session* s : live) {
    const FlowKey& key = ingress == Ingress::server ? s->outbound : s->inbound;
    if (key.source.is_v4() != family.v6) keys.push_back(&key);
  }
  if (keys.empty()) return;
  const FlowKey& key = *keys[(choice - 1u) % keys.size()];
  uint32_t header = header_length(family, ip);
  uint8_t* icmp = ip + header;
  bool icmp_message = ip[family.protocol] == family.icmp && header >= family.header;
  if (icmp_message && family.v6 && icmp < end && icmp[0] >= ICMP6_ECHO_REQUEST) return;   // informational: of no flow
  if (!icmp_message || icmp + kIcmp + family.header > end) return write_key(family, ip, end, key);
  put_address(family, ip + family.destination, key.destination);   // the error comes to our address
  write_key(family, icmp + kIcmp, end, reversed(key));
}

}  // namespace fuzz
