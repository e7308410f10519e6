// Flows and frames of traffic.h.
#include "traffic.h"

#include <algorithm>
#include <cstring>
#include <random>
#include <stdexcept>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "flow.h"   // owner_of_client: which worker a client's flows belong to

namespace bench {

namespace {

constexpr uint16_t kFirstClientPort = 1024;
constexpr uint16_t kWindow = 65535;

uint16_t server_index(Ipv4 server) { return uint16_t(server - kFirstServer); }

}  // namespace

std::vector<Flow> client_flows(uint16_t worker, uint16_t workers, uint32_t count) {
  std::vector<Flow> flows;
  flows.reserve(count);
  // Client addresses vary fastest, so consecutive flows come from different clients.
  const uint64_t candidates = uint64_t(kClientAddresses) * (65536 - kFirstClientPort);
  for (uint64_t c = 0; c < candidates && flows.size() < count; ++c) {
    const Ipv4 client = kClientBase + Ipv4(c % kClientAddresses);
    const uint16_t port = uint16_t(kFirstClientPort + c / kClientAddresses);
    if (l4lb::owner_of_client(client, port, workers) != worker) continue;
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

FrameWriter::FrameWriter(const Network& network) : network_(network) {}

bool FrameWriter::from_client(rte_mbuf* m, const Flow& f, uint8_t tcp_flags, uint32_t seq) const {
  return write(m, network_.gateway_mac, network_.client.mac, f.client, f.client_port, kVip, kVipPort, tcp_flags, seq);
}

bool FrameWriter::from_server(rte_mbuf* m, const Flow& f, uint8_t tcp_flags, uint32_t seq) const {
  return write(m, network_.server_macs[server_index(f.server)], network_.server.mac, f.server, kServerPort, f.local,
               f.local_port, tcp_flags, seq);
}

bool FrameWriter::write(rte_mbuf* m, const l4lb::MacAddress& source_mac, const l4lb::MacAddress& destination_mac,
                        Ipv4 source, uint16_t source_port, Ipv4 destination, uint16_t destination_port,
                        uint8_t tcp_flags, uint32_t seq) const {
  auto* frame = rte_pktmbuf_mtod(m, uint8_t*);
  if (!rte_pktmbuf_append(m, kFrameLength)) return false;
  std::memset(frame, 0, kFrameLength);
  auto* eth = reinterpret_cast<rte_ether_hdr*>(frame);
  std::memcpy(&eth->dst_addr, destination_mac.bytes, 6);
  std::memcpy(&eth->src_addr, source_mac.bytes, 6);
  eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);

  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
  ip->version_ihl = RTE_IPV4_VHL_DEF;
  ip->total_length = rte_cpu_to_be_16(sizeof(rte_ipv4_hdr) + sizeof(rte_tcp_hdr) + kPayload);
  ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
  ip->time_to_live = 64;
  ip->next_proto_id = IPPROTO_TCP;
  ip->src_addr = rte_cpu_to_be_32(source);
  ip->dst_addr = rte_cpu_to_be_32(destination);

  auto* tcp = reinterpret_cast<rte_tcp_hdr*>(ip + 1);
  tcp->src_port = rte_cpu_to_be_16(source_port);
  tcp->dst_port = rte_cpu_to_be_16(destination_port);
  tcp->sent_seq = rte_cpu_to_be_32(seq);
  tcp->recv_ack = rte_cpu_to_be_32((tcp_flags & RTE_TCP_ACK_FLAG) ? 1 : 0);
  tcp->data_off = uint8_t(sizeof(rte_tcp_hdr) / 4) << 4;
  tcp->tcp_flags = tcp_flags;
  tcp->rx_win = rte_cpu_to_be_16(kWindow);

  ip->hdr_checksum = rte_ipv4_cksum(ip);
  tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
  return true;
}

bool learn_local_end(const rte_mbuf* m, std::vector<Flow>& flows) {
  if (rte_pktmbuf_data_len(m) < sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) + sizeof(rte_tcp_hdr)) return false;
  const auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, sizeof(rte_ether_hdr));
  const auto* tcp = reinterpret_cast<const rte_tcp_hdr*>(ip + 1);
  const uint32_t index = rte_be_to_cpu_32(tcp->sent_seq);
  const Ipv4 server = rte_be_to_cpu_32(ip->dst_addr);
  if (ip->next_proto_id != IPPROTO_TCP || !(tcp->tcp_flags & RTE_TCP_SYN_FLAG) || index >= flows.size() ||
      server_index(server) >= kServers)
    return false;
  Flow& f = flows[index];
  f.local = rte_be_to_cpu_32(ip->src_addr);
  f.local_port = rte_be_to_cpu_16(tcp->src_port);
  f.server = server;
  return true;
}

bool translated_right(const rte_mbuf* m, const std::vector<Flow>& flows, bool towards_server) {
  if (rte_pktmbuf_data_len(m) < sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) + sizeof(rte_tcp_hdr)) return false;
  const auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, sizeof(rte_ether_hdr));
  const auto* tcp = reinterpret_cast<const rte_tcp_hdr*>(ip + 1);
  const uint32_t index = rte_be_to_cpu_32(tcp->sent_seq);
  if (ip->next_proto_id != IPPROTO_TCP || index >= flows.size()) return false;
  const Flow& f = flows[index];
  const Ipv4 source = rte_be_to_cpu_32(ip->src_addr), destination = rte_be_to_cpu_32(ip->dst_addr);
  const uint16_t source_port = rte_be_to_cpu_16(tcp->src_port), destination_port = rte_be_to_cpu_16(tcp->dst_port);
  const bool ends = towards_server ? source == f.local && source_port == f.local_port && destination == f.server &&
                                         destination_port == kServerPort
                                   : source == kVip && source_port == kVipPort && destination == f.client &&
                                         destination_port == f.client_port;
  // Summed with its checksum field, a valid header sums to 0xffff, which both functions
  // complement to 0 (only for UDP would the second report 0 as 0xffff).
  return ends && rte_ipv4_cksum(ip) == 0 && rte_ipv4_udptcp_cksum(ip, tcp) == 0;
}

}  // namespace bench
