// libFuzzer target over the data plane's packet path: each input is one Ethernet frame that
// a worker receives through a ring port exactly as from a NIC (rx burst → classify → ARP /
// parse → ICMP, ICMPv6 and neighbour discovery / session lookup → translate, within a family
// or across (NAT64) → TOA or PROXY header → neighbour → tx), in the network of fuzz_lab.h.
// Sessions opened by earlier inputs stay, so later inputs reach established flows; every
// kInputsPerLab inputs the lab starts over, which keeps memory flat and checks that no mbuf
// was kept.
//
// Input: three bytes of setup, then the frame.
//   byte 0  bits 0-1  where it arrives: 0 client-side NIC, 1 server-side NIC, 2 the client
//                     NIC's kernel tap (the exception path out), 3 a sync peer: what
//                     follows is wire records (docs/sync.md), 111 bytes each, and bits 2-5
//                     and bytes 1-2 are unused
//           bit 2     the NIC queue, hence which of the two workers reads it first
//           bit 3     no headroom (else the usual 128 bytes)
//           bit 4     no tailroom (else the rest of a 2 KB buffer)
//           bit 5     make its checksums valid first, then hold sent frames to valid ones
//           bits 6-7  time passing before it: none, 10 ms, 1 s, 100 s (ARP retries,
//                     expiry); also the age of a peer's records
//   byte 1  where the frame's second segment starts (0: one segment)
//   byte 2  0, or aim at live session n-1 (aim.h): addresses and ports (of the quoted packet,
//           for an ICMP or ICMPv6 error) rewritten to that flow's, in the frame's direction and
//           family
//
// Peer records install sessions that later frames can be aimed at, so packets also run
// through sessions whose state (TCP state, client-address progress, sequence shift) came
// from a peer. With L4LB_FUZZ_PEER_SEEDS=DIR every sync event the workers write is saved in
// DIR as a peer input (scripts/fuzz-seeds.sh makes the peer-* seeds so).
//
// A failed invariant aborts (frame_checks.h); a sanitizer report or leak ends the run too.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <rte_eal.h>

#include "aim.h"
#include "frame_checks.h"
#include "fuzz_lab.h"
#include "sessions.h"

namespace {

constexpr unsigned kInputsPerLab = 2000;
constexpr uint8_t kPeer = 3;
constexpr uint64_t kTimeSteps[4] = {0, 10, 1000, 100000};

fuzz::FuzzLab* the_lab = nullptr;

// One seed per service (family and port), event kind and state: the record a peer would send.
void save_peer_seed(const std::string& dir, const l4lb::SyncEvent& e) {
  static const char* kKinds[] = {"", "new", "update", "refresh", "close"};
  uint8_t seed[3 + l4lb::kSyncRecordSize] = {kPeer};
  l4lb::encode_sync_record(e, 1, 1, seed + 3);
  const char* family = e.client_address.is_v4() ? "" : e.server_address.is_v4() ? "nat64-" : "ip6-";
  std::string name = dir + "/peer-" + family + std::to_string(e.virtual_port) + "-" + kKinds[static_cast<int>(e.kind)] + "-" +
                     l4lb::tcp_state_name(static_cast<l4lb::TcpState>(e.state));
  FILE* f = std::fopen(name.c_str(), "wb");
  if (!f || std::fwrite(seed, sizeof seed, 1, f) != 1 || std::fclose(f) != 0) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* eal_args[] = {"packet-fuzzer", "--no-huge", "--no-shconf", "-m", "512", "--no-pci",
                            "--log-level", "lib.eal:error", "-l", "0"};
  if (rte_eal_init(sizeof eal_args / sizeof *eal_args, const_cast<char**>(eal_args)) < 0) std::abort();
  the_lab = new fuzz::FuzzLab();
  if (const char* dir = std::getenv("L4LB_FUZZ_PEER_SEEDS"))
    the_lab->on_sync_event = [dir = std::string(dir)](const l4lb::SyncEvent& e) { save_peer_seed(dir, e); };
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static unsigned inputs = 0;
  if (size < 3) return 0;
  if (++inputs % kInputsPerLab == 0) the_lab->reset();
  uint8_t setup = data[0];
  uint64_t elapsed_ms = kTimeSteps[setup >> 6];
  if ((setup & 3) == kPeer) {
    the_lab->advance(elapsed_ms);
    the_lab->feed_peer(data + 3, size - 3, elapsed_ms);
    return 0;
  }
  static constexpr fuzz::Ingress kIngress[3] = {fuzz::Ingress::client, fuzz::Ingress::server, fuzz::Ingress::kernel};
  fuzz::Ingress ingress = kIngress[setup & 3];
  uint16_t queue = (setup >> 2) & 1;
  fuzz::Layout layout;
  layout.headroom = (setup & 0x08) ? 0 : RTE_PKTMBUF_HEADROOM;
  layout.tailroom = !(setup & 0x10);
  layout.split = data[1];
  bool checked = setup & 0x20;
  std::vector<uint8_t> frame(data + 3, data + size);
  if (data[2]) fuzz::aim(frame, ingress, the_lab->sessions(), data[2]);
  if (checked) fuzz::fix_checksums(frame);
  the_lab->advance(elapsed_ms);
  the_lab->feed(ingress, queue, frame, layout, checked);
  return 0;
}
