// Address and port translation of one TCP/UDP packet within its family, with incremental
// checksums; nat64.h changes the family.
#pragma once

#include <cstring>

#include "checksum.h"
#include "packet.h"

namespace l4lb {

// Rewrites the IP addresses and returns the change for the checksums over
// them: the IP header's, and TCP/UDP's (pseudo-header). Leaves the checksums to the caller.
inline ChecksumDelta rewrite_addresses(rte_ipv4_hdr* ip, const Address& source, const Address& destination) {
  rte_be32_t new_source = source.v4_be(), new_destination = destination.v4_be();
  ChecksumDelta addresses;
  addresses.replace32(ip->src_addr, new_source);
  addresses.replace32(ip->dst_addr, new_destination);
  ip->src_addr = new_source;
  ip->dst_addr = new_destination;
  return addresses;
}

// Decrements the TTL and adds the change to `header`.
inline void decrement_ttl(rte_ipv4_hdr* ip, ChecksumDelta& header) {
  uint16_t ttl_protocol;   // TTL shares a 16-bit checksum word with the protocol
  std::memcpy(&ttl_protocol, &ip->time_to_live, 2);
  --ip->time_to_live;
  uint16_t new_ttl_protocol;
  std::memcpy(&new_ttl_protocol, &ip->time_to_live, 2);
  header.replace16(ttl_protocol, new_ttl_protocol);
}

// A forwarded IP header: new addresses, TTL decremented, header checksum fixed. Returns the
// addresses' change for the TCP/UDP checksum. Cost: ~12 ALU operations and a few stores.
inline ChecksumDelta translate_ip(rte_ipv4_hdr* ip, const Address& source, const Address& destination) {
  ChecksumDelta addresses = rewrite_addresses(ip, source, destination);
  ChecksumDelta header = addresses;
  decrement_ttl(ip, header);
  ip->hdr_checksum = update_checksum(ip->hdr_checksum, header);
  return addresses;
}

// Rewrites a TCP/UDP port pair (at `ports`, host byte order in the arguments) and adds the
// change to `delta`.
inline void rewrite_ports(rte_be16_t* ports, uint16_t source_port, uint16_t destination_port, ChecksumDelta& delta) {
  rte_be16_t new_source_port = rte_cpu_to_be_16(source_port), new_destination_port = rte_cpu_to_be_16(destination_port);
  delta.replace16(ports[0], new_source_port);
  delta.replace16(ports[1], new_destination_port);
  ports[0] = new_source_port;
  ports[1] = new_destination_port;
}

// An IPv6 header with new addresses and the hop limit decremented (it has no checksum).
// Returns the addresses' change for the TCP/UDP checksum. Cost: ~40 ALU operations.
inline ChecksumDelta translate_ip6(rte_ipv6_hdr* ip, const Address& source, const Address& destination) {
  ChecksumDelta addresses;
  uint8_t bytes[16];
  source.copy_to(bytes);
  addresses.replace128(&ip->src_addr, bytes);
  std::memcpy(&ip->src_addr, bytes, 16);
  destination.copy_to(bytes);
  addresses.replace128(&ip->dst_addr, bytes);
  std::memcpy(&ip->dst_addr, bytes, 16);
  --ip->hop_limits;
  return addresses;
}

// Puts the ports' change into the TCP or UDP checksum.
inline void rewrite_l4(const IpFrame& f, uint16_t source_port, uint16_t destination_port, ChecksumDelta& l4) {
  rewrite_ports(reinterpret_cast<rte_be16_t*>(f.l4), source_port, destination_port, l4);  // same place in TCP and UDP
  if (f.protocol == IPPROTO_TCP) f.tcp()->cksum = update_checksum(f.tcp()->cksum, l4);
  else f.udp()->dgram_cksum = update_udp_checksum(f.udp()->dgram_cksum, l4);
}

// FullNAT of one TCP/UDP packet within its family: new source and destination (address and
// port), TTL or hop limit decremented, IP (IPv4) and TCP/UDP checksums fixed from the change
// alone. Cost: ~25 ALU operations (IPv4) or ~50 (IPv6) and stores on lines already loaded.
inline void translate(const IpFrame& f, const Address& source, uint16_t source_port, const Address& destination,
                      uint16_t destination_port) {
  ChecksumDelta l4 = f.v6 ? translate_ip6(f.ip6(), source, destination) : translate_ip(f.ip4(), source, destination);
  rewrite_l4(f, source_port, destination_port, l4);
}

}  // namespace l4lb
