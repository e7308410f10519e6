// What the benchmark sends: TCP flows between clients and a plan's VIP (plan.h), written as
// minimum-size frames straight into mbufs, as a NIC would have delivered them. Each side of a
// flow is written in the family of its addresses, so NAT64 flows are IPv6 towards the clients
// and IPv4 towards the servers.
#pragma once

#include <cstdint>
#include <vector>

#include <rte_mbuf.h>

#include "network.h"

namespace bench {

// One flow through the load balancer, its ends named by their number in the plan. The client
// end is chosen up front; the local end and the real server are what the worker picked, learnt
// from its translated SYN.
struct Flow {
  uint32_t client = 0;        // nth(plan.client_base, client)
  uint16_t client_port = 0;
  uint16_t local_port = 0;
  uint32_t local = 0;         // nth(plan.first_local, local)
  uint32_t server = 0;        // nth(plan.first_server, server)
};

// `count` distinct client ends of `plan` owned by worker `worker` of `workers`, so no frame of
// theirs is passed to another worker. Throws when the client range cannot supply that many.
std::vector<Flow> client_flows(const Plan& plan, uint16_t worker, uint16_t workers, uint32_t count);

// A random permutation of [0, count); the seed is fixed so runs visit flows alike.
std::vector<uint32_t> random_order(uint32_t count, uint64_t seed);

// The same TCP segment in both families: 64 bytes on the wire with the FCS over IPv4, 84 over
// IPv6 (a header 20 bytes longer).
constexpr uint16_t kPayload = 6;
constexpr uint16_t kFrameLengthV4 = 14 + 20 + 20 + kPayload, kFrameLengthV6 = 14 + 40 + 20 + kPayload;

// Writes the frames of a plan's flows with valid checksums, never inside a measured section,
// and reads what the worker made of them.
class Frames {
 public:
  Frames(const Network& network, const Plan& plan);
  // client:cport → VIP, as the gateway forwards it to the client-side port.
  bool from_client(rte_mbuf* m, const Flow& flow, uint8_t tcp_flags, uint32_t seq) const;
  // server:8080 → local:lport, as the real server sends it to the server-side port.
  bool from_server(rte_mbuf* m, const Flow& flow, uint8_t tcp_flags, uint32_t seq) const;

  // Reads a SYN the worker sent towards a real server: the sequence number (the benchmark
  // sends the flow's index there) names the flow, the source its local end, the destination its
  // server. False when the frame is not such a SYN or names no flow.
  bool learn_local_end(rte_mbuf* m, std::vector<Flow>& flows) const;
  // Whether a frame the worker forwarded is its flow translated right: towards the server
  // local:lport → server:8080, towards the client VIP → client:cport, with valid IP and TCP
  // checksums. The flow is the one the sequence number names, as the benchmark sends it.
  bool translated_right(rte_mbuf* m, const std::vector<Flow>& flows, bool towards_server) const;

 private:
  bool write(rte_mbuf* m, const l4lb::MacAddress& source_mac, const l4lb::MacAddress& destination_mac,
             const l4lb::Address& source, uint16_t source_port, const l4lb::Address& destination,
             uint16_t destination_port, uint8_t tcp_flags, uint32_t seq) const;
  const Network& network_;
  const Plan& plan_;
};

}  // namespace bench
