// Cost of the client address passing steps; see client_address_costs.h.
#include "client_address_costs.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <stdexcept>

#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "packet.h"
#include "proxy_protocol.h"
#include "seq_shift.h"
#include "toa.h"

namespace bench {

namespace {

using l4lb::IpFrame;

// A translated segment LIP:1025 → RS:8080 with `options` and `payload` bytes, checksummed.
std::vector<uint8_t> segment(const std::vector<uint8_t>& options, uint16_t payload, uint8_t flags) {
  const uint16_t tcp_length = uint16_t(sizeof(rte_tcp_hdr) + options.size());
  std::vector<uint8_t> frame(sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) + tcp_length + payload, 0x61);
  auto* eth = reinterpret_cast<rte_ether_hdr*>(frame.data());
  eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
  *ip = rte_ipv4_hdr{};
  ip->version_ihl = RTE_IPV4_VHL_DEF;
  ip->total_length = rte_cpu_to_be_16(uint16_t(sizeof(rte_ipv4_hdr) + tcp_length + payload));
  ip->time_to_live = 63;
  ip->next_proto_id = IPPROTO_TCP;
  ip->src_addr = rte_cpu_to_be_32(0x0a010201);
  ip->dst_addr = rte_cpu_to_be_32(0x0a010101);
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  auto* tcp = reinterpret_cast<rte_tcp_hdr*>(ip + 1);
  *tcp = rte_tcp_hdr{};
  tcp->src_port = rte_cpu_to_be_16(1025);
  tcp->dst_port = rte_cpu_to_be_16(8080);
  tcp->sent_seq = rte_cpu_to_be_32(1001);
  tcp->recv_ack = rte_cpu_to_be_32(5001);
  tcp->data_off = uint8_t((tcp_length / 4) << 4);
  tcp->tcp_flags = flags;
  tcp->rx_win = rte_cpu_to_be_16(65535);
  std::memcpy(tcp + 1, options.data(), options.size());
  tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
  return frame;
}

const std::vector<uint8_t> kTimestamps{1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9};
const std::vector<uint8_t> kTimestampsAndSack{1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9, 1, 1, 5, 10,
                                              0, 0, 0x04, 0xd2, 0, 0, 0x05, 0x36};

uint64_t median(std::vector<uint64_t>& samples) {
  std::nth_element(samples.begin(), samples.begin() + long(samples.size() / 2), samples.end());
  return samples[samples.size() / 2];
}

uint64_t clock_cost(unsigned repeats) {
  std::vector<uint64_t> samples(repeats);
  for (uint64_t& s : samples) {
    uint64_t start = rte_rdtsc_precise();
    s = rte_rdtsc_precise() - start;
  }
  return median(samples);
}

// The median cycles of `step` per frame, timed over bursts of fresh mbufs holding `frame` (a
// single step is too short for the TSC to time on its own).
double measure(rte_mempool* pool, const std::vector<uint8_t>& frame, unsigned repeats, uint64_t clock,
               const std::function<void(rte_mbuf*, IpFrame&)>& step) {
  constexpr unsigned kBurst = 32;
  std::vector<uint64_t> samples(std::max(1u, repeats / kBurst));
  rte_mbuf* burst[kBurst];
  IpFrame frames[kBurst];
  for (uint64_t& s : samples) {
    if (rte_pktmbuf_alloc_bulk(pool, burst, kBurst) != 0) throw std::runtime_error("packet pool exhausted");
    for (unsigned i = 0; i < kBurst; ++i) {
      std::memcpy(rte_pktmbuf_append(burst[i], uint16_t(frame.size())), frame.data(), frame.size());
      l4lb::Drop why;
      if (!l4lb::parse_ipv4(burst[i], &frames[i], &why)) throw std::runtime_error("crafted segment does not parse");
    }
    uint64_t start = rte_rdtsc_precise();
    for (unsigned i = 0; i < kBurst; ++i) step(burst[i], frames[i]);
    uint64_t cycles = rte_rdtsc_precise() - start;
    s = cycles > clock ? cycles - clock : 0;
    rte_pktmbuf_free_bulk(burst, kBurst);
  }
  return double(median(samples)) / kBurst;
}

}  // namespace

std::vector<StepCost> measure_client_address(rte_mempool* pool, unsigned repeats) {
  const uint64_t clock = clock_cost(repeats);
  const l4lb::FlowKey client{l4lb::Address::v4(0xc0000207), l4lb::Address::v4(0x0a000064), 40000, 80, IPPROTO_TCP};
  uint8_t v1[l4lb::kProxyHeaderMax], v2[l4lb::kProxyHeaderMax];
  const uint16_t v1_length = l4lb::proxy_header(l4lb::ClientAddress::proxy_v1, client, v1);
  const uint16_t v2_length = l4lb::proxy_header(l4lb::ClientAddress::proxy_v2, client, v2);
  const l4lb::HeaderPlace place{1001, v1_length};
  const auto ack = segment(kTimestamps, 0, RTE_TCP_ACK_FLAG);
  const auto request = segment(kTimestamps, 200, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG);
  const auto full = segment(kTimestamps, 1448, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG);
  const auto sacked = segment(kTimestampsAndSack, 0, RTE_TCP_ACK_FLAG);
  std::vector<StepCost> costs;
  auto add = [&](const char* name, const std::vector<uint8_t>& frame, const std::function<void(rte_mbuf*, IpFrame&)>& step) {
    costs.push_back({name, measure(pool, frame, repeats, clock, step)});
  };
  add("TOA into a third ACK (per session)", ack,
      [&](rte_mbuf* m, IpFrame& f) { l4lb::insert_toa(m, f, client.source, client.source_port, 1500); });
  add("PROXY v1 before a 200-byte request (per session)", request,
      [&](rte_mbuf* m, IpFrame& f) { l4lb::prepend_to_payload(m, f, v1, v1_length, 1500); });
  add("PROXY v2 before a 200-byte request (per session)", request,
      [&](rte_mbuf* m, IpFrame& f) { l4lb::prepend_to_payload(m, f, v2, v2_length, 1500); });
  add("PROXY v1 in a segment of its own (per session)", full, [&](rte_mbuf* m, IpFrame& f) {
    rte_mbuf* own = l4lb::header_segment(pool, m, f, v1, v1_length);
    l4lb::set_tcp_seq(f.tcp(), 1001 + v1_length);
    rte_pktmbuf_free(own);   // stands in for the transmit that would release it
  });
  add("PROXY inbound seq shift (per packet)", request,
      [&](rte_mbuf*, IpFrame& f) { l4lb::set_tcp_seq(f.tcp(), l4lb::server_seq(1101, place, true)); });
  add("PROXY outbound ack, timestamps (per packet)", ack,
      [&](rte_mbuf*, IpFrame& f) { l4lb::unshift_outbound(f.tcp(), place); });
  add("PROXY outbound ack and a SACK block (per packet)", sacked,
      [&](rte_mbuf*, IpFrame& f) { l4lb::unshift_outbound(f.tcp(), place); });
  return costs;
}

void print_client_address(const std::vector<StepCost>& costs, uint64_t tsc_hz) {
  std::printf("\nclient address passing, cycles per step (median over bursts of 32, %.2f GHz TSC)\n", double(tsc_hz) / 1e9);
  for (const StepCost& c : costs) std::printf("  %-52s %8.1f\n", c.name.c_str(), c.cycles);
}

}  // namespace bench
