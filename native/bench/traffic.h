// What the benchmark sends: TCP flows between clients and the VIP, written as minimum-size
// frames (64 bytes on the wire) straight into mbufs, as a NIC would have delivered them.
#pragma once

#include <cstdint>
#include <vector>

#include <rte_mbuf.h>

#include "network.h"

namespace bench {

// One flow through the load balancer. The client end is chosen up front; the local end and
// the real server are what the worker picked, learnt from its translated SYN.
struct Flow {
  Ipv4 client = 0;
  uint16_t client_port = 0;
  uint16_t local_port = 0;
  Ipv4 local = 0;
  Ipv4 server = 0;
};

// `count` distinct client ends owned by worker `worker` of `workers`, so no frame of theirs
// is passed to another worker. Throws when the client range cannot supply that many.
std::vector<Flow> client_flows(uint16_t worker, uint16_t workers, uint32_t count);

// A random permutation of [0, count); the seed is fixed so runs visit flows alike.
std::vector<uint32_t> random_order(uint32_t count, uint64_t seed);

constexpr uint16_t kFrameLength = 60;   // 64 on the wire with the FCS
constexpr uint16_t kPayload = kFrameLength - 14 - 20 - 20;

// Writes frames of a flow with valid IPv4 and TCP checksums. Never inside a measured section.
class FrameWriter {
 public:
  explicit FrameWriter(const Network& network);
  // client:cport → VIP:80, as the gateway forwards it to the client-side port.
  bool from_client(rte_mbuf* m, const Flow& flow, uint8_t tcp_flags, uint32_t seq) const;
  // server:8080 → local:lport, as the real server sends it to the server-side port.
  bool from_server(rte_mbuf* m, const Flow& flow, uint8_t tcp_flags, uint32_t seq) const;

 private:
  bool write(rte_mbuf* m, const l4lb::MacAddress& source_mac, const l4lb::MacAddress& destination_mac,
             Ipv4 source, uint16_t source_port, Ipv4 destination, uint16_t destination_port, uint8_t tcp_flags,
             uint32_t seq) const;
  const Network& network_;
};

// Reads a SYN the worker sent towards a real server: the sequence number (the benchmark sends
// the flow's index there) names the flow, the source its local end, the destination its
// server. False when the frame is not such a SYN or names no flow.
bool learn_local_end(const rte_mbuf* m, std::vector<Flow>& flows);

// Whether a frame the worker forwarded is its flow translated right: towards the server
// local:lport → server:8080, towards the client VIP:80 → client:cport, with valid IPv4 and TCP
// checksums. The flow is the one the sequence number names, as the benchmark sends it.
bool translated_right(const rte_mbuf* m, const std::vector<Flow>& flows, bool towards_server);

}  // namespace bench
