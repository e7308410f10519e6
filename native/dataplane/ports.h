// EAL start-up and DPDK ports: the NIC itself (a vdev hot-plugged at run time, or a PCI device)
// and, per NIC, its net_tap exception port whose kernel side carries the probe addresses.
// Control thread only. Errors are std::runtime_error with a message an operator can act on.
#pragma once

#include <sched.h>

#include <cstdint>
#include <string>
#include <vector>

#include <rte_mempool.h>

#include "config.h"
#include "snapshot.h"

namespace l4lb {

struct EalOptions {
  std::string instance;          // unique per process: EAL file prefix, tap interface names
  unsigned lcores = 2;           // main lcore + workers
  std::vector<std::string> extra_args;
};

// Descriptors per queue. The packet pool is sized from them: a NIC's rx ring stays full of
// buffers and a tx ring can fill up (link down), so both count; a tap queue holds few.
constexpr uint16_t kRxDescriptors = 1024;
constexpr uint16_t kTxDescriptors = 1024;
constexpr uint16_t kTapDescriptors = 64;

// The EAL command line start_eal() uses, from the options, the number of free 2 MB hugepages
// and the calling thread's CPU affinity. Pure, so it can be tested without starting the EAL.
std::vector<std::string> eal_arguments(const EalOptions& options, unsigned free_hugepages, const cpu_set_t& cpus);

// Starts the EAL once per process: `--in-memory` when enough free 2 MB hugepages exist,
// otherwise `--no-huge --no-shconf -m N`. Restores the calling thread's CPU affinity
// afterwards (rte_eal_init pins it). Returns the lcore ids available for workers.
std::vector<unsigned> start_eal(const EalOptions& options);
// One packet pool for every port, sized for `workers` queues on `max_ports` ports.
rte_mempool* packet_pool(uint16_t workers, uint16_t max_ports);

struct PortSpec {
  std::string nic;               // the API name, for messages
  std::string device;            // PCI address or vdev args
  uint16_t queues = 1;           // one rx/tx pair per worker
  uint16_t mtu = 1500;
  Prefix probe;                  // IPv4; length 0: none
  Prefix probe6;                 // IPv6; length 0: none. Neither: no exception port
  std::string tap_name;          // kernel interface name of the exception port (≤ 15 chars)
};

struct OpenPort {
  uint16_t port = kNoPort;
  uint16_t tap = kNoPort;
  std::string vdev_name;         // for hot-unplug; "" for PCI
  std::string tap_vdev_name;
  MacAddress mac;
  bool tx_ip_checksum_offload = false;
  bool tx_l4_checksum_offload = false;
  std::string host_interface;    // af_packet / af_xdp: the kernel interface the port reads
};

// Probes (hot-plugs a vdev), configures `queues` rx/tx pairs with `pool` and starts the port;
// with a probe prefix of either family, also creates the tap (same MAC as the port, `queues`
// pairs), gives its kernel interface the addresses and brings it up. A probe prefix of the
// wrong family is refused before anything opens.
OpenPort open_port(const PortSpec& spec, rte_mempool* pool);
void close_port(const OpenPort& port);
// Whether `device` names something DPDK could open (vdev driver exists / PCI address present),
// without opening it. Empty when fine, else why not.
std::string check_device(const std::string& device);

struct LinkState {
  bool up = false;
  uint32_t speed_mbps = 0;
};
// DPDK's view of the link; for a port on a kernel interface (af_packet, af_xdp), also that
// interface's carrier, which those drivers never refresh after start.
LinkState link_state(const OpenPort& port);
// Whether a kernel interface of this network namespace is up with a carrier (IFF_RUNNING).
bool kernel_carrier(const std::string& interface);

}  // namespace l4lb
