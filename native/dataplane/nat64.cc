// NAT64 header rebuilding; nat64.h has the rules.
#include "nat64.h"

#include <cstring>

#include "ip_header.h"
#include "nat.h"

namespace l4lb {

namespace {

// The 16 bytes an address adds to a pseudo-header sum: an IPv6 address as it is, an IPv4 one
// behind 12 zero bytes (which add nothing).
void pseudo_header_bytes(const Address& a, uint8_t (&out)[16]) {
  if (!a.is_v4()) return a.copy_to(out);
  std::memset(out, 0, 12);
  uint32_t be = a.v4_be();
  std::memcpy(out + 12, &be, 4);
}

}  // namespace

bool translate_across(rte_mbuf* m, IpFrame& f, const Address& source, uint16_t source_port, const Address& destination,
                      uint16_t destination_port) {
  const bool to_v6 = !source.is_v4();
  const uint16_t new_header = to_v6 ? sizeof(rte_ipv6_hdr) : sizeof(rte_ipv4_hdr);
  const bool udp_unchecked = f.protocol == IPPROTO_UDP && f.udp()->dgram_cksum == 0;
  if (to_v6 && udp_unchecked && !rte_pktmbuf_is_contiguous(m)) return false;

  // Everything needed from the old header, before the new one overwrites it.
  uint8_t old_source[16], old_destination[16], new_source[16], new_destination[16];
  pseudo_header_bytes(f.source(), old_source);
  pseudo_header_bytes(f.destination(), old_destination);
  pseudo_header_bytes(source, new_source);
  pseudo_header_bytes(destination, new_destination);
  const uint8_t hop_limit = uint8_t(f.hop_limit() - 1);
  const uint8_t traffic_class = f.v6 ? uint8_t(rte_be_to_cpu_32(f.ip6()->vtc_flow) >> 20) : f.ip4()->type_of_service;
  const int growth = int(new_header) - int(f.ip_header_length());
  if (growth > 0 && !rte_pktmbuf_prepend(m, uint16_t(growth))) return false;
  if (growth < 0) rte_pktmbuf_adj(m, uint16_t(-growth));

  // The L4 part stays where it is; the new header ends where it starts.
  f = write_ip_header(f.l4 - new_header, source, destination, f.protocol, hop_limit, traffic_class, f.l4_length);

  ChecksumDelta l4;
  l4.replace128(old_source, new_source);
  l4.replace128(old_destination, new_destination);
  if (to_v6 && udp_unchecked) {   // IPv6 has no checksum-less UDP
    rewrite_ports(reinterpret_cast<rte_be16_t*>(f.l4), source_port, destination_port, l4);
    uint16_t check = full_l4_checksum(f);
    f.udp()->dgram_cksum = check == 0 ? 0xffff : check;
    return true;
  }
  rewrite_l4(f, source_port, destination_port, l4);
  return true;
}

}  // namespace l4lb
