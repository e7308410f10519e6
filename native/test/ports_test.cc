// Tests of ports.h: the EAL command line, the packet pool, hot-plugged ports (net_null,
// net_ring), refusals with their messages, and the tap exception port (root only, inside a
// private network namespace so nothing on the host sees it).
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <stdexcept>

#include <rte_ethdev.h>

#include "check.h"
#include "netns.h"
#include "ports.h"

using namespace l4lb;

namespace {

cpu_set_t cpus(std::initializer_list<int> ids) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int id : ids) CPU_SET(id, &set);
  return set;
}

// The value following `option` in `args`, "" when absent.
std::string value_of(const std::vector<std::string>& args, const std::string& option) {
  auto it = std::find(args.begin(), args.end(), option);
  return it == args.end() || it + 1 == args.end() ? "" : *(it + 1);
}

bool has(const std::vector<std::string>& args, const std::string& option) {
  return std::find(args.begin(), args.end(), option) != args.end();
}

// Equality of texts, printing both when they differ.
bool same(const std::string& got, const std::string& want) {
  if (got != want) std::fprintf(stderr, "  got \"%s\", want \"%s\"\n", got.c_str(), want.c_str());
  return got == want;
}

bool contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return true;
  std::fprintf(stderr, "  \"%s\" lacks \"%s\"\n", text.c_str(), part.c_str());
  return false;
}

// The message `body` throws, "" when it does not.
std::string error_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

rte_mempool* test_pool() { return packet_pool(1, 2); }

PortSpec spec_for(const std::string& device, uint16_t queues = 1) {
  PortSpec spec;
  spec.nic = "n0";
  spec.device = device;
  spec.queues = queues;
  return spec;
}

bool port_exists(const char* name) {
  uint16_t port;
  return rte_eth_dev_get_port_by_name(name, &port) == 0;
}

// Marks a test that cannot run here: loudly, and as a failure on CI.
void skip(const char* test, const char* why) {
  std::printf("SKIPPED %s: %s\n", test, why);
  const char* ci = std::getenv("CI");
  if (ci && std::strcmp(ci, "true") == 0) CHECK(!"skipped on CI");
}

std::string read_line(const std::string& path) {
  std::ifstream file(path);
  std::string line;
  std::getline(file, line);
  return line;
}

}  // namespace

TEST(eal_arguments_use_in_memory_hugepages_when_free) {
  EalOptions options{"a1", 3, {}};
  auto args = eal_arguments(options, 256, cpus({0, 1}));
  CHECK(has(args, "--in-memory"));
  CHECK(same(value_of(args, "-m"), "128"));
  CHECK(!has(args, "--no-huge"));
  CHECK(same(value_of(args, "--lcores"), "0@(0-1),1@1,2@0"));
  CHECK(same(value_of(args, "--file-prefix"), "l4lb-a1"));
  CHECK(has(args, "--no-telemetry"));
  CHECK(!has(args, "--no-pci"));           // PCI NICs are hot-plugged later
  CHECK(same(value_of(args, "-a"), "ffff:ff:1f.7"));   // so nothing is probed at start
}

TEST(eal_arguments_fall_back_to_ordinary_memory) {
  EalOptions options{"a2", 2, {}};
  auto args = eal_arguments(options, 63, cpus({0, 1}));
  CHECK(has(args, "--no-huge"));
  CHECK(has(args, "--no-shconf"));
  CHECK(same(value_of(args, "-m"), "256"));
  CHECK(!has(args, "--in-memory"));
  CHECK(same(value_of(args, "--lcores"), "0@(0-1),1@1"));
}

TEST(eal_arguments_map_lcores_to_the_allowed_cpus) {
  EalOptions options{"a3", 2, {}};
  CHECK(same(value_of(eal_arguments(options, 0, cpus({2, 3, 5})), "--lcores"), "0@(2-3,5),1@3"));
  options.lcores = 3;
  CHECK(same(value_of(eal_arguments(options, 0, cpus({1})), "--lcores"), "0@1,1@1,2@1"));
  CHECK(!error_of([&] { eal_arguments(options, 0, cpus({})); }).empty());
}

TEST(eal_arguments_end_with_the_extra_ones) {
  EalOptions options{"a4", 2, {"-a", "0000:01:00.0"}};
  auto args = eal_arguments(options, 256, cpus({0}));
  CHECK(args.size() >= 2 && args[args.size() - 2] == "-a" && args.back() == "0000:01:00.0");
}

TEST(packet_pool_is_made_once) {
  rte_mempool* pool = test_pool();
  CHECK(pool != nullptr);
  CHECK(packet_pool(1, 2) == pool);
  CHECK(((pool->size + 1) & pool->size) == 0);   // 2^k − 1 buffers
  CHECK(rte_pktmbuf_data_room_size(pool) >= RTE_MBUF_DEFAULT_BUF_SIZE);
}

TEST(a_hot_plugged_port_opens_with_its_queues_and_closes) {
  OpenPort port = open_port(spec_for("net_null0", 2), test_pool());
  CHECK(port.port != kNoPort);
  CHECK(port.tap == kNoPort);
  CHECK(port.vdev_name == "net_null0");
  rte_eth_dev_info info;
  CHECK_EQ(rte_eth_dev_info_get(port.port, &info), 0);
  CHECK_EQ(info.nb_rx_queues, 2);
  CHECK_EQ(info.nb_tx_queues, 2);
  CHECK(port.host_interface.empty());
  LinkState link = link_state(port);
  CHECK(link.up);
  CHECK(link.speed_mbps > 0);
  close_port(port);
  CHECK(!port_exists("net_null0"));
  CHECK(!link_state(port).up);
}

TEST(a_kernel_interface_carrier_is_read_from_the_kernel) {
  CHECK(kernel_carrier("lo"));
  CHECK(!kernel_carrier("l4lb-absent0"));
  CHECK(!kernel_carrier(std::string(40, 'x')));
}

TEST(the_same_device_opens_again_after_close) {
  for (int round = 0; round < 2; ++round) {
    OpenPort port = open_port(spec_for("net_ring0"), test_pool());
    CHECK(port_exists("net_ring0"));
    close_port(port);
    CHECK(!port_exists("net_ring0"));
  }
}

TEST(a_device_already_open_is_refused) {
  OpenPort port = open_port(spec_for("net_null1"), test_pool());
  CHECK(contains(error_of([] { open_port(spec_for("net_null1"), test_pool()); }), "net_null1 is already open"));
  CHECK(port_exists("net_null1"));
  close_port(port);
}

TEST(check_device_says_what_is_wrong) {
  CHECK(same(check_device("net_null0"), ""));
  CHECK(contains(check_device("net_bogus0"), "no DPDK driver for device 'net_bogus0'"));
  CHECK(contains(check_device("net_af_packet0"), "needs iface="));
  CHECK(same(check_device("net_af_packet0,qpairs=2,iface=l4lbnone0"), "interface l4lbnone0 does not exist"));
  CHECK(same(check_device("ff:1f.7"), "PCI device 0000:ff:1f.7 does not exist"));
  CHECK(!check_device("").empty());
}

// Any PCI device a kernel driver other than vfio-pci holds (most hosts have one) is refused.
TEST(check_device_refuses_pci_devices_the_kernel_holds) {
  DIR* devices = opendir("/sys/bus/pci/devices");
  std::string found, driver;
  for (dirent* entry; devices && found.empty() && (entry = readdir(devices));) {
    char target[PATH_MAX];
    std::string link = std::string("/sys/bus/pci/devices/") + entry->d_name + "/driver";
    ssize_t length = readlink(link.c_str(), target, sizeof target - 1);
    if (length <= 0) continue;
    driver = std::string(target, size_t(length));
    driver = driver.substr(driver.rfind('/') + 1);
    if (driver != "vfio-pci" && driver != "uio_pci_generic" && driver.rfind("mlx", 0) != 0) found = entry->d_name;
  }
  if (devices) closedir(devices);
  if (found.empty()) {
    std::printf("NOTE check_device_refuses_pci_devices_the_kernel_holds: no kernel-held PCI device to try\n");
    return;
  }
  CHECK(same(check_device(found), "PCI device " + found + " is used by the kernel driver " + driver +
                                      ": bind it to vfio-pci"));
}

TEST(a_bad_device_is_refused_with_the_nic_name) {
  std::string error = error_of([] { open_port(spec_for("net_bogus0"), test_pool()); });
  CHECK(contains(error, "NIC n0: no DPDK driver"));
}

TEST(too_few_queues_are_refused_and_the_device_released) {
  std::string error = error_of([] { open_port(spec_for("net_ring0", 17), test_pool()); });
  CHECK(contains(error, "has 16 queue pair(s), 17 workers need one each"));
  CHECK(!port_exists("net_ring0"));
  CHECK(contains(error_of([] { open_port(spec_for("net_af_packet0,iface=lo", 2), test_pool()); }), "qpairs=2") ||
        geteuid() != 0);   // af_packet needs root to open
  CHECK(!port_exists("net_af_packet0"));
}

TEST(a_jumbo_mtu_is_refused_for_now) {
  PortSpec spec = spec_for("net_null2");
  spec.mtu = 9000;
  CHECK(contains(error_of([&] { open_port(spec, test_pool()); }), "MTU 9000 needs jumbo frames"));
  CHECK(!port_exists("net_null2"));
}

TEST(the_exception_port_gets_the_probe_address) {
  if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0)
    return skip("the_exception_port_gets_the_probe_address", "needs root and /dev/net/tun");
  netns::Private netns;
  if (!netns.entered()) return skip("the_exception_port_gets_the_probe_address", "cannot create a network namespace");

  PortSpec spec = spec_for("net_null3", 2);
  spec.probe = Prefix{Address::v4(0x0aff0001), 24};   // 10.255.0.1/24, inside the private namespace only
  spec.tap_name = "l4lbtap0";
  OpenPort port = open_port(spec, test_pool());
  CHECK(port.tap != kNoPort);
  CHECK(port.tap_vdev_name == "net_tap_l4lbtap0");
  rte_eth_dev_info info;
  CHECK_EQ(rte_eth_dev_info_get(port.tap, &info), 0);
  CHECK_EQ(info.nb_rx_queues, 2);

  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq ifr{};
  std::strcpy(ifr.ifr_name, "l4lbtap0");
  CHECK_EQ(ioctl(sock, SIOCGIFADDR, &ifr), 0);
  CHECK_EQ(ntohl(reinterpret_cast<sockaddr_in*>(&ifr.ifr_addr)->sin_addr.s_addr), 0x0aff0001u);
  CHECK_EQ(ioctl(sock, SIOCGIFNETMASK, &ifr), 0);
  CHECK_EQ(ntohl(reinterpret_cast<sockaddr_in*>(&ifr.ifr_netmask)->sin_addr.s_addr), 0xffffff00u);
  CHECK_EQ(ioctl(sock, SIOCGIFFLAGS, &ifr), 0);
  CHECK(ifr.ifr_flags & IFF_UP);
  CHECK_EQ(ioctl(sock, SIOCGIFHWADDR, &ifr), 0);
  CHECK(std::memcmp(ifr.ifr_hwaddr.sa_data, port.mac.bytes, 6) == 0);
  close(sock);
  if (access("/proc/sys/net/ipv6/conf/l4lbtap0", F_OK) == 0)
    CHECK(same(read_line("/proc/sys/net/ipv6/conf/l4lbtap0/disable_ipv6"), "1"));
  CHECK(same(read_line("/proc/sys/net/ipv4/conf/l4lbtap0/rp_filter"), "2"));
  CHECK(same(read_line("/proc/sys/net/ipv4/conf/l4lbtap0/arp_ignore"), "1"));

  close_port(port);
  CHECK_EQ(if_nametoindex("l4lbtap0"), 0u);
  CHECK(!port_exists("net_tap_l4lbtap0"));
  CHECK(!port_exists("net_null3"));
}
