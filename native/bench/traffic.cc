// Flows and frames of traffic.h.
#include "traffic.h"

#include <algorithm>
#include <cstring>
#include <random>
#include <stdexcept>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "flow.h"     // owner_of_client: which worker a client's flows belong to
#include "packet.h"   // IpFrame, the parsers and checksums the data plane uses

namespace bench {

using l4lb::Address;

namespace {

constexpr uint16_t kFirstClientPort = 1024;
constexpr uint16_t kWindow = 65535;
constexpr uint8_t kTtl = 64;

void write_ipv4_header(rte_ipv4_hdr* ip, const Address& source, const Address& destination, uint16_t l4_length) {
  ip->version_ihl = RTE_IPV4_VHL_DEF;
  ip->total_length = rte_cpu_to_be_16(uint16_t(sizeof(rte_ipv4_hdr) + l4_length));
  ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
  ip->time_to_live = kTtl;
  ip->next_proto_id = IPPROTO_TCP;
  ip->src_addr = source.v4_be();
  ip->dst_addr = destination.v4_be();
  ip->hdr_checksum = rte_ipv4_cksum(ip);
}

void write_ipv6_header(rte_ipv6_hdr* ip, const Address& source, const Address& destination, uint16_t l4_length) {
  ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
  ip->payload_len = rte_cpu_to_be_16(l4_length);
  ip->proto = IPPROTO_TCP;
  ip->hop_limits = kTtl;
  source.copy_to(reinterpret_cast<uint8_t*>(&ip->src_addr));
  destination.copy_to(reinterpret_cast<uint8_t*>(&ip->dst_addr));
}

// The IP frame of a TCP segment the worker sent, of either family, as the data plane parses
// it; false for anything else.
bool read_tcp(rte_mbuf* m, l4lb::IpFrame* f) {
  if (rte_pktmbuf_data_len(m) < sizeof(rte_ether_hdr)) return false;
  const rte_be16_t type = rte_pktmbuf_mtod(m, const rte_ether_hdr*)->ether_type;
  l4lb::Drop why;
  const bool parsed = type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6)   ? l4lb::parse_ipv6(m, f, &why)
                      : type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ? l4lb::parse_ipv4(m, f, &why)
                                                                     : false;
  return parsed && f->protocol == IPPROTO_TCP;
}

}  // namespace

std::vector<Flow> client_flows(const Plan& plan, uint16_t worker, uint16_t workers, uint32_t count) {
  std::vector<Flow> flows;
  flows.reserve(count);
  // Client addresses vary fastest, so consecutive flows come from different clients.
  const uint64_t candidates = uint64_t(kClientAddresses) * (65536 - kFirstClientPort);
  for (uint64_t c = 0; c < candidates && flows.size() < count; ++c) {
    const uint32_t client = uint32_t(c % kClientAddresses);
    const uint16_t port = uint16_t(kFirstClientPort + c / kClientAddresses);
    if (l4lb::owner_of_client(nth(plan.client_base, client), port, workers) != worker) continue;
    Flow f;
    f.client = client;
    f.client_port = port;
    flows.push_back(f);
  }
  if (flows.size() < count) throw std::runtime_error("the client range holds too few flows for one worker");
  return flows;
}

std::vector<uint32_t> random_order(uint32_t count, uint64_t seed) {
  std::vector<uint32_t> order(count);
  for (uint32_t i = 0; i < count; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937_64(seed));
  return order;
}

Frames::Frames(const Network& network, const Plan& plan) : network_(network), plan_(plan) {}

bool Frames::from_client(rte_mbuf* m, const Flow& f, uint8_t tcp_flags, uint32_t seq) const {
  return write(m, network_.gateway_mac, network_.client.mac, nth(plan_.client_base, f.client), f.client_port, plan_.vip,
               plan_.vip_port, tcp_flags, seq);
}

bool Frames::from_server(rte_mbuf* m, const Flow& f, uint8_t tcp_flags, uint32_t seq) const {
  return write(m, network_.server_macs[f.server], network_.server.mac, nth(plan_.first_server, f.server), kServerPort,
               nth(plan_.first_local, f.local), f.local_port, tcp_flags, seq);
}

bool Frames::write(rte_mbuf* m, const l4lb::MacAddress& source_mac, const l4lb::MacAddress& destination_mac,
                   const Address& source, uint16_t source_port, const Address& destination,
                   uint16_t destination_port, uint8_t tcp_flags, uint32_t seq) const {
  const bool v6 = !source.is_v4();
  const uint16_t length = v6 ? kFrameLengthV6 : kFrameLengthV4;
  auto* frame = rte_pktmbuf_mtod(m, uint8_t*);
  if (!rte_pktmbuf_append(m, length)) return false;
  std::memset(frame, 0, length);
  auto* eth = reinterpret_cast<rte_ether_hdr*>(frame);
  std::memcpy(&eth->dst_addr, destination_mac.bytes, 6);
  std::memcpy(&eth->src_addr, source_mac.bytes, 6);
  eth->ether_type = rte_cpu_to_be_16(v6 ? RTE_ETHER_TYPE_IPV6 : RTE_ETHER_TYPE_IPV4);

  l4lb::IpFrame f;
  f.ip = reinterpret_cast<uint8_t*>(eth + 1);
  f.l4 = f.ip + (v6 ? sizeof(rte_ipv6_hdr) : sizeof(rte_ipv4_hdr));
  f.l4_length = sizeof(rte_tcp_hdr) + kPayload;
  f.protocol = IPPROTO_TCP;
  f.v6 = v6;
  if (v6) write_ipv6_header(f.ip6(), source, destination, f.l4_length);
  else write_ipv4_header(f.ip4(), source, destination, f.l4_length);

  rte_tcp_hdr* tcp = f.tcp();
  tcp->src_port = rte_cpu_to_be_16(source_port);
  tcp->dst_port = rte_cpu_to_be_16(destination_port);
  tcp->sent_seq = rte_cpu_to_be_32(seq);
  tcp->recv_ack = rte_cpu_to_be_32((tcp_flags & RTE_TCP_ACK_FLAG) ? 1 : 0);
  tcp->data_off = uint8_t(sizeof(rte_tcp_hdr) / 4) << 4;
  tcp->tcp_flags = tcp_flags;
  tcp->rx_win = rte_cpu_to_be_16(kWindow);
  tcp->cksum = l4lb::full_l4_checksum(f);
  return true;
}

bool Frames::learn_local_end(rte_mbuf* m, std::vector<Flow>& flows) const {
  l4lb::IpFrame f;
  if (!read_tcp(m, &f)) return false;
  const rte_tcp_hdr* tcp = f.tcp();
  const uint32_t index = rte_be_to_cpu_32(tcp->sent_seq);
  const uint32_t local = index_of(f.source(), plan_.first_local), server = index_of(f.destination(), plan_.first_server);
  if (!(tcp->tcp_flags & RTE_TCP_SYN_FLAG) || index >= flows.size() || local >= network_.local_addresses ||
      server >= kServers)
    return false;
  Flow& flow = flows[index];
  flow.local = local;
  flow.local_port = rte_be_to_cpu_16(tcp->src_port);
  flow.server = server;
  return true;
}

bool Frames::translated_right(rte_mbuf* m, const std::vector<Flow>& flows, bool towards_server) const {
  l4lb::IpFrame f;
  if (!read_tcp(m, &f)) return false;
  const uint32_t index = rte_be_to_cpu_32(f.tcp()->sent_seq);
  if (index >= flows.size()) return false;
  const Flow& flow = flows[index];
  const l4lb::FlowKey expected =
      towards_server ? l4lb::FlowKey{nth(plan_.first_local, flow.local), nth(plan_.first_server, flow.server),
                                     flow.local_port, kServerPort, IPPROTO_TCP}
                     : l4lb::FlowKey{plan_.vip, nth(plan_.client_base, flow.client), plan_.vip_port, flow.client_port,
                                     IPPROTO_TCP};
  // Summed with its checksum field, a valid header sums to 0xffff, which both functions
  // complement to 0 (only for UDP would the TCP/UDP one report 0 as 0xffff).
  return f.key() == expected && (f.v6 || rte_ipv4_cksum(f.ip4()) == 0) && l4lb::full_l4_checksum(f) == 0;
}

}  // namespace bench
