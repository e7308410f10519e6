// Opening and closing DPDK ports at run time.
//
// Every device is attached by hot-plug (rte_dev_probe) when a NIC enters the configuration and
// removed again (rte_dev_remove) when it leaves, so the same vdev name or PCI address can be
// opened again later. The EAL probes no device at start (eal.cc); one already there is used as found.
//
// Each port gets one rx/tx queue pair per worker: a device with fewer queues is refused rather
// than shared, because a worker polls its own queue without locks. With several queues, RSS
// spreads flows when the device can. Promiscuous mode stays off: every address the data plane
// answers for (VIPs, local addresses, the probe addresses) resolves to the port's own MAC.
//
// The exception port is a net_tap whose kernel interface has the NIC's MAC and the probe
// addresses (IPv4, IPv6 or both), and is isolated (tap.h) so the host answers for nothing
// else through it.
#define ALLOW_EXPERIMENTAL_API  // rte_devargs_reset, to free what rte_devargs_parse allocated

#include "ports.h"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <set>
#include <stdexcept>

#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_pci.h>

#include "tap.h"

namespace l4lb {

namespace {

constexpr uint64_t kChecksumOffloads =
    RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
constexpr uint64_t kRssTypes = RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP;
// Kernel drivers under which DPDK can drive a PCI NIC: the user-space I/O ones, and the
// bifurcated ones whose PMDs work beside the kernel driver.
const std::set<std::string> kDpdkPciDrivers = {"vfio-pci", "uio_pci_generic", "igb_uio", "mlx4_core", "mlx5_core",
                                               "mana"};
constexpr unsigned kMaxFrameOverhead = RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN + RTE_ETHER_CRC_LEN;

// rte_device names of what open_port() opened and close_port() has not closed yet.
std::set<std::string>& open_devices() {
  static std::set<std::string> names;
  return names;
}

// The device a PortSpec::device string names: a PCI address (normalised to domain:bus:dev.fn,
// the name DPDK gives the device) or a vdev (its name, the part before the first comma).
struct DeviceName {
  bool pci = false;
  std::string name;
  std::string args;   // after the first comma
};

DeviceName parse_device(const std::string& device) {
  size_t comma = device.find(',');
  DeviceName parsed{false, device.substr(0, comma), comma == std::string::npos ? "" : device.substr(comma + 1)};
  rte_pci_addr address;
  if (rte_pci_addr_parse(parsed.name.c_str(), &address) == 0) {
    char name[PCI_PRI_STR_SIZE];
    rte_pci_device_name(&address, name, sizeof name);
    parsed.pci = true;
    parsed.name = name;
  }
  return parsed;
}

// The value of `key=` in a vdev's comma-separated arguments, "" when absent.
std::string argument(const std::string& args, const std::string& key) {
  size_t start = 0;
  while (start <= args.size()) {
    size_t end = std::min(args.find(',', start), args.size());
    size_t value = start + key.size() + 1;
    if (args.compare(start, key.size() + 1, key + "=") == 0) return args.substr(value, end - value);
    start = end + 1;
  }
  return "";
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// Drivers whose port is a kernel interface named by `iface=`.
bool on_kernel_interface(const std::string& driver) {
  return starts_with(driver, "net_af_packet") || starts_with(driver, "net_af_xdp");
}

std::string errno_text(int error) { return rte_strerror(error < 0 ? -error : error); }

uint16_t find_port(const std::string& device_name) {
  uint16_t port;
  RTE_ETH_FOREACH_DEV(port) {
    rte_eth_dev_info info;
    if (rte_eth_dev_info_get(port, &info) == 0 && info.device && device_name == rte_dev_name(info.device))
      return port;
  }
  return kNoPort;
}

// Probes `args` unless the device is already there, and returns its (first) Ethernet port.
uint16_t attach(const std::string& args, const std::string& device_name, bool pci, const std::string& label) {
  uint16_t port = find_port(device_name);
  if (port != kNoPort) return port;
  int rc = rte_dev_probe(args.c_str());
  if (rc < 0) throw std::runtime_error(label + ": cannot open device " + args + ": " + errno_text(rc));
  port = find_port(device_name);
  if (port == kNoPort) {
    rte_eal_hotplug_remove(pci ? "pci" : "vdev", device_name.c_str());
    throw std::runtime_error(label + ": device " + args + " has no Ethernet port");
  }
  return port;
}

// Stops, closes and hot-unplugs a port's device; quiet, for cleanup after partial opens too.
void detach(uint16_t port) {
  rte_eth_dev_info info;
  rte_device* device = rte_eth_dev_info_get(port, &info) == 0 ? info.device : nullptr;
  rte_eth_dev_stop(port);
  rte_eth_dev_close(port);
  if (!device) return;
  open_devices().erase(rte_dev_name(device));
  rte_dev_remove(device);
}

struct QueueSetup {
  uint16_t queues = 1;
  uint16_t rx_descriptors = kRxDescriptors;
  uint16_t tx_descriptors = kTxDescriptors;
  uint16_t mtu = 1500;
  bool checksum_offload = true;   // enable when the device offers it
};

std::string queue_hint(const std::string& device, uint16_t queues) {
  std::string n = std::to_string(queues);
  if (starts_with(device, "net_af_packet")) return " (add qpairs=" + n + " to the device)";
  if (starts_with(device, "net_af_xdp"))
    return " (add queue_count=" + n + " to the device and give the interface as many channels)";
  return "";
}

// Configures `setup.queues` rx/tx pairs fed from `pool` and starts the port. Returns the
// transmit offloads enabled.
uint64_t start_port(uint16_t port, const std::string& device, const std::string& label, const QueueSetup& setup,
                    rte_mempool* pool) {
  rte_eth_dev_info info;
  int rc = rte_eth_dev_info_get(port, &info);
  if (rc != 0) throw std::runtime_error(label + ": cannot read the device's capabilities: " + errno_text(rc));
  uint16_t queues = std::min(info.max_rx_queues, info.max_tx_queues);
  if (queues < setup.queues)
    throw std::runtime_error(label + ": device " + device + " has " + std::to_string(queues) + " queue pair(s), " +
                             std::to_string(setup.queues) + " workers need one each" +
                             queue_hint(device, setup.queues));

  unsigned max_mtu = rte_pktmbuf_data_room_size(pool) - RTE_PKTMBUF_HEADROOM - kMaxFrameOverhead;
  if (setup.mtu > max_mtu)
    throw std::runtime_error(label + ": MTU " + std::to_string(setup.mtu) + " needs jumbo frames, which are not " +
                             "supported yet (MTU up to " + std::to_string(max_mtu) + ")");

  rte_eth_conf conf{};
  if (setup.checksum_offload)
    conf.txmode.offloads = info.tx_offload_capa & (kChecksumOffloads | RTE_ETH_TX_OFFLOAD_MULTI_SEGS);
  if (setup.queues > 1 && (info.flow_type_rss_offloads & kRssTypes)) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads & kRssTypes;
  }
  rc = rte_eth_dev_configure(port, setup.queues, setup.queues, &conf);
  if (rc != 0) throw std::runtime_error(label + ": cannot configure device " + device + ": " + errno_text(rc));

  uint16_t rx_descriptors = setup.rx_descriptors, tx_descriptors = setup.tx_descriptors;
  rte_eth_dev_adjust_nb_rx_tx_desc(port, &rx_descriptors, &tx_descriptors);
  unsigned needed = unsigned(setup.queues) * (rx_descriptors + tx_descriptors);
  unsigned free_buffers = rte_mempool_avail_count(pool);
  if (free_buffers < needed)
    throw std::runtime_error(label + ": the packet pool has " + std::to_string(free_buffers) + " free buffers, " +
                             "its queues need " + std::to_string(needed) + " (use fewer NICs or workers)");

  int socket = rte_eth_dev_socket_id(port);
  if (socket < 0) socket = SOCKET_ID_ANY;
  rte_eth_txconf txconf = info.default_txconf;
  txconf.offloads = conf.txmode.offloads;
  for (uint16_t q = 0; q < setup.queues; ++q) {
    rc = rte_eth_rx_queue_setup(port, q, rx_descriptors, socket, &info.default_rxconf, pool);
    if (rc == 0) rc = rte_eth_tx_queue_setup(port, q, tx_descriptors, socket, &txconf);
    if (rc != 0)
      throw std::runtime_error(label + ": cannot set up queue pair " + std::to_string(q) + ": " + errno_text(rc));
  }
  rc = rte_eth_dev_set_mtu(port, setup.mtu);
  if (rc != 0 && rc != -ENOTSUP)   // ring and null devices have no MTU to set
    throw std::runtime_error(label + ": cannot set MTU " + std::to_string(setup.mtu) + ": " + errno_text(rc));
  rc = rte_eth_dev_start(port);
  if (rc != 0) throw std::runtime_error(label + ": cannot start device " + device + ": " + errno_text(rc));
  return conf.txmode.offloads;
}

// Runs steps of tap.h, whose errors name the kernel interface: an operator needs the NIC too.
template <class Steps>
void kernel_step(const std::string& label, Steps&& steps) {
  try {
    steps();
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(label + ": " + e.what());
  }
}

void open_tap(const PortSpec& spec, OpenPort& result, rte_mempool* pool) {
  std::string label = "exception port of NIC " + spec.nic;
  if (spec.tap_name.empty() || spec.tap_name.size() >= IFNAMSIZ)
    throw std::runtime_error(label + ": bad interface name '" + spec.tap_name + "'");
  rte_ether_addr mac;
  std::memcpy(mac.addr_bytes, result.mac.bytes, sizeof mac.addr_bytes);
  char mac_text[RTE_ETHER_ADDR_FMT_SIZE];
  rte_ether_format_addr(mac_text, sizeof mac_text, &mac);

  result.tap_vdev_name = "net_tap_" + spec.tap_name;
  std::string args = result.tap_vdev_name + ",iface=" + spec.tap_name + ",mac=" + mac_text;
  result.tap = attach(args, result.tap_vdev_name, false, label);
  kernel_step(label, [&] { isolate_kernel_interface(spec.tap_name, spec.probe6.length > 0); });
  QueueSetup setup{spec.queues, kTapDescriptors, kTapDescriptors, spec.mtu, false};
  start_port(result.tap, result.tap_vdev_name, label, setup, pool);
  kernel_step(label, [&] {
    if (spec.probe.length > 0) set_kernel_address(spec.tap_name, spec.probe);
    if (spec.probe6.length > 0) set_kernel_address6(spec.tap_name, spec.probe6);
    bring_up_kernel_interface(spec.tap_name);
  });
}

// The probe prefixes' families, checked before anything opens.
void check_probes(const PortSpec& spec, const std::string& label) {
  if (spec.probe.length > 0 && !spec.probe.address.is_v4())
    throw std::runtime_error(label + ": the probe address " + format_address(spec.probe.address) + " is not IPv4");
  if (spec.probe6.length > 0 && spec.probe6.address.is_v4())
    throw std::runtime_error(label + ": the IPv6 probe address " + format_address(spec.probe6.address) +
                             " is not IPv6");
}

}  // namespace

OpenPort open_port(const PortSpec& spec, rte_mempool* pool) {
  std::string label = "NIC " + spec.nic;
  check_probes(spec, label);
  std::string problem = check_device(spec.device);
  if (!problem.empty()) throw std::runtime_error(label + ": " + problem);
  DeviceName device = parse_device(spec.device);
  if (open_devices().count(device.name))
    throw std::runtime_error(label + ": device " + device.name + " is already open");

  OpenPort result;
  result.port = attach(spec.device, device.name, device.pci, label);
  if (!device.pci) result.vdev_name = device.name;
  if (on_kernel_interface(device.name)) result.host_interface = argument(device.args, "iface");
  try {
    uint64_t offloads = start_port(result.port, device.name, label, QueueSetup{spec.queues, kRxDescriptors,
                                                                             kTxDescriptors, spec.mtu, true}, pool);
    // IPv6 neighbour discovery asks at solicited-node groups, one per VIP, local address and probe
    // address: a device's multicast filter would drop them, so the port takes all multicast.
    int rc = rte_eth_allmulticast_enable(result.port);
    if (rc != 0 && rc != -ENOTSUP)
      throw std::runtime_error(label + ": cannot receive multicast: " + errno_text(rc));
    result.tx_ip_checksum_offload = offloads & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
    result.tx_l4_checksum_offload =
        (offloads & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) && (offloads & RTE_ETH_TX_OFFLOAD_UDP_CKSUM);
    rte_ether_addr mac;
    rc = rte_eth_macaddr_get(result.port, &mac);
    if (rc != 0) throw std::runtime_error(label + ": cannot read the MAC address: " + errno_text(rc));
    std::memcpy(result.mac.bytes, mac.addr_bytes, sizeof result.mac.bytes);
    if (spec.probe.length > 0 || spec.probe6.length > 0) open_tap(spec, result, pool);
  } catch (...) {
    close_port(result);
    throw;
  }
  open_devices().insert(device.name);
  return result;
}

void close_port(const OpenPort& port) {
  if (port.tap != kNoPort) detach(port.tap);   // first: it forwards to the NIC's kernel side
  if (port.port != kNoPort) detach(port.port);
}

std::string check_device(const std::string& device) {
  if (device.empty()) return "no device given: name a PCI address or a DPDK vdev such as net_af_packet0,iface=eth1";
  DeviceName parsed = parse_device(device);
  if (parsed.pci) {
    std::string sysfs = "/sys/bus/pci/devices/" + parsed.name;
    if (access(sysfs.c_str(), F_OK) != 0) return "PCI device " + parsed.name + " does not exist";
    char target[PATH_MAX];
    ssize_t length = readlink((sysfs + "/driver").c_str(), target, sizeof target - 1);
    std::string driver = length > 0 ? std::string(target, size_t(length)) : "";
    driver = driver.substr(driver.rfind('/') + 1);
    if (driver.empty()) return "PCI device " + parsed.name + " has no driver: bind it to vfio-pci";
    if (!kDpdkPciDrivers.count(driver))
      return "PCI device " + parsed.name + " is used by the kernel driver " + driver + ": bind it to vfio-pci";
    return "";
  }
  rte_devargs devargs{};
  int rc = rte_devargs_parse(&devargs, device.c_str());
  rte_devargs_reset(&devargs);
  if (rc != 0)
    return "no DPDK driver for device '" + parsed.name + "': name a PCI address or a vdev whose name starts "
           "with its driver, such as net_af_packet0,iface=eth1";
  if (on_kernel_interface(parsed.name)) {
    std::string interface = argument(parsed.args, "iface");
    if (interface.empty()) return "device " + parsed.name + " needs iface=<interface>";
    if (if_nametoindex(interface.c_str()) == 0) return "interface " + interface + " does not exist";
  }
  return "";
}

bool kernel_carrier(const std::string& interface) {
  ifreq request{};
  if (interface.size() >= sizeof request.ifr_name) return false;
  std::memcpy(request.ifr_name, interface.c_str(), interface.size());
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool running = ioctl(fd, SIOCGIFFLAGS, &request) == 0 && (request.ifr_flags & IFF_UP) && (request.ifr_flags & IFF_RUNNING);
  close(fd);
  return running;
}

// Two system calls per kernel-interface port; status is read at most every 100 ms.
LinkState link_state(const OpenPort& port) {
  rte_eth_link link{};
  if (rte_eth_link_get_nowait(port.port, &link) != 0) return {};
  LinkState state{link.link_status == RTE_ETH_LINK_UP, link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 : link.link_speed};
  if (!port.host_interface.empty()) state.up = state.up && kernel_carrier(port.host_interface);
  return state;
}

}  // namespace l4lb
