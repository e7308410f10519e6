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

ChecksumDelta pseudo_header_change(const Address& old_source, const Address& old_destination, const Address& source,
                                   const Address& destination) {
  uint8_t before[16], after[16];
  ChecksumDelta change;
  pseudo_header_bytes(old_source, before);
  pseudo_header_bytes(source, after);
  change.replace128(before, after);
  pseudo_header_bytes(old_destination, before);
  pseudo_header_bytes(destination, after);
  change.replace128(before, after);
  return change;
}

bool translate_across(rte_mbuf* m, IpFrame& f, const Address& source, uint16_t source_port, const Address& destination,
                      uint16_t destination_port) {
  const bool to_v6 = !source.is_v4();
  const uint16_t new_header = to_v6 ? sizeof(rte_ipv6_hdr) : sizeof(rte_ipv4_hdr);
  const bool udp_unchecked = f.protocol == IPPROTO_UDP && f.udp()->dgram_cksum == 0;
  if (to_v6 && udp_unchecked && !rte_pktmbuf_is_contiguous(m)) return false;

  // Everything needed from the old header, before the new one overwrites it.
  ChecksumDelta l4 = pseudo_header_change(f.source(), f.destination(), source, destination);
  const uint8_t hop_limit = uint8_t(f.hop_limit() - 1);
  const uint8_t tos = traffic_class(f);
  const int growth = int(new_header) - int(f.ip_header_length());
  if (growth > 0 && !rte_pktmbuf_prepend(m, uint16_t(growth))) return false;
  if (growth < 0) rte_pktmbuf_adj(m, uint16_t(-growth));

  // The L4 part stays where it is; the new header ends where it starts.
  f = write_ip_header(f.l4 - new_header, source, destination, f.protocol, hop_limit, tos, f.l4_length);

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
