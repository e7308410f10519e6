// The exception port with an IPv6 probe address (ports.h, tap.h): probe prefixes of the wrong
// family are refused before anything opens; and, as root in a private network namespace (with
// IPv6 off by default, then on), the tap's kernel side gets the global address alone (no
// link-local), not tentative, with the settings that keep the kernel from speaking on its own,
// and an IPv4 address only when there is an IPv4 probe.
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <thread>

#include <rte_ethdev.h>

#include "check.h"
#include "netns.h"
#include "ports.h"

using namespace l4lb;

namespace {

constexpr unsigned kTentative = 0x40;   // IFA_F_TENTATIVE in /proc/net/if_inet6

Address v6(const char* text) {
  Address a;
  if (!parse_address(text, &a)) throw std::invalid_argument(text);
  return a;
}

PortSpec spec_for(const std::string& device, const std::string& tap) {
  PortSpec spec;
  spec.nic = "n6";
  spec.device = device;
  spec.tap_name = tap;
  return spec;
}

std::string error_of(const PortSpec& spec) {
  try {
    close_port(open_port(spec, packet_pool(1, 2)));
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

// Equality of texts, printing both when they differ.
bool same(const std::string& got, const std::string& want) {
  if (got != want) std::fprintf(stderr, "  got \"%s\", want \"%s\"\n", got.c_str(), want.c_str());
  return got == want;
}

bool port_exists(const char* name) {
  uint16_t port;
  return rte_eth_dev_get_port_by_name(name, &port) == 0;
}

std::string read_line(const std::string& path) {
  std::ifstream file(path);
  std::string line;
  std::getline(file, line);
  return line;
}

bool write_line(const std::string& path, const char* value) {
  std::ofstream file(path);
  return static_cast<bool>(file << value << '\n') && static_cast<bool>(file.flush());
}

struct Inet6Address {
  Address address;
  unsigned prefix_length = 0, flags = 0;
};

// The IPv6 addresses of `interface` (/proc/net/if_inet6 of the calling thread's namespace).
std::vector<Inet6Address> inet6_addresses(const std::string& interface) {
  std::ifstream file("/proc/thread-self/net/if_inet6");
  std::vector<Inet6Address> found;
  std::string hex, index, length, scope, flags, name;
  while (file >> hex >> index >> length >> scope >> flags >> name) {
    if (name != interface || hex.size() != 32) continue;
    uint8_t bytes[16];
    for (int i = 0; i < 16; ++i) bytes[i] = uint8_t(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
    found.push_back({Address::v6(bytes), unsigned(std::stoul(length, nullptr, 16)), unsigned(std::stoul(flags, nullptr, 16))});
  }
  return found;
}

// The addresses once none is tentative any more (duplicate address detection is off, but its
// completion runs from a kernel work queue), or as they are after a second.
std::vector<Inet6Address> settled_inet6_addresses(const std::string& interface) {
  for (int i = 0; i < 100; ++i) {
    std::vector<Inet6Address> now = inet6_addresses(interface);
    bool tentative = false;
    for (const Inet6Address& a : now) tentative |= (a.flags & kTentative) != 0;
    if (!tentative) return now;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return inet6_addresses(interface);
}

// The IPv4 address of `interface` in host byte order; 0 when it has none.
uint32_t inet_address(const std::string& interface) {
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, interface.c_str(), IFNAMSIZ - 1);
  int rc = ioctl(sock, SIOCGIFADDR, &ifr);
  close(sock);
  return rc == 0 ? ntohl(reinterpret_cast<sockaddr_in*>(&ifr.ifr_addr)->sin_addr.s_addr) : 0;
}

bool is_up(const std::string& interface) {
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, interface.c_str(), IFNAMSIZ - 1);
  bool up = ioctl(sock, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP);
  close(sock);
  return up;
}

// Whether the kernel side can be tried here; says why not (loudly, and as a failure on CI).
bool can_make_taps(const char* test) {
  const char* why = geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0 ? "needs root and /dev/net/tun"
                    : access("/proc/sys/net/ipv6", F_OK) != 0                  ? "needs a kernel with IPv6"
                                                                               : nullptr;
  if (!why) return true;
  std::printf("SKIPPED %s: %s\n", test, why);
  const char* ci = std::getenv("CI");
  if (ci && std::strcmp(ci, "true") == 0) CHECK(!"skipped on CI");
  return false;
}

// IPv6 off for every interface of the (private) namespace, as some hosts have it.
void disable_ipv6_by_default() {
  CHECK(write_line("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1"));
  CHECK(write_line("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1"));
}

void check_quiet_ipv6(const std::string& interface) {
  const std::string conf = "/proc/sys/net/ipv6/conf/" + interface + "/";
  CHECK(same(read_line(conf + "disable_ipv6"), "0"));
  CHECK(same(read_line(conf + "addr_gen_mode"), "1"));
  for (const char* setting : {"accept_ra", "autoconf", "accept_dad", "dad_transmits", "router_solicitations"})
    CHECK(same(read_line(conf + setting), "0"));
}

}  // namespace

TEST(probe_prefixes_of_the_wrong_family_are_refused) {
  PortSpec spec = spec_for("net_null6", "l4lbtap6");
  spec.probe = Prefix{v6("2001:db8::5"), 64};
  CHECK(same(error_of(spec), "NIC n6: the probe address 2001:db8::5 is not IPv4"));
  spec.probe = Prefix{};
  spec.probe6 = Prefix{Address::v4(0x0aff0005), 24};
  CHECK(same(error_of(spec), "NIC n6: the IPv6 probe address 10.255.0.5 is not IPv6"));
  CHECK(!port_exists("net_null6"));
}

TEST(the_exception_port_gets_the_ipv6_probe_address_alone) {
  if (!can_make_taps("the_exception_port_gets_the_ipv6_probe_address_alone")) return;
  netns::Private namespace_;
  CHECK(namespace_.entered());
  if (!namespace_.entered()) return;
  disable_ipv6_by_default();

  PortSpec spec = spec_for("net_null7", "l4lbtap7");
  spec.probe6 = Prefix{v6("2001:db8:ff::1"), 64};   // inside the private namespace only
  OpenPort port = open_port(spec, packet_pool(1, 2));
  CHECK(port.tap != kNoPort);
  check_quiet_ipv6("l4lbtap7");
  std::vector<Inet6Address> addresses = settled_inet6_addresses("l4lbtap7");
  CHECK_EQ(addresses.size(), size_t(1));   // no link-local
  if (!addresses.empty()) {
    CHECK_EQ(addresses[0].address, v6("2001:db8:ff::1"));
    CHECK_EQ(addresses[0].prefix_length, 64u);
    CHECK_EQ(addresses[0].flags & kTentative, 0u);
  }
  CHECK_EQ(inet_address("l4lbtap7"), 0u);
  CHECK(is_up("l4lbtap7"));
  close_port(port);
  CHECK_EQ(if_nametoindex("l4lbtap7"), 0u);
  CHECK(!port_exists("net_null7"));
}

TEST(the_exception_port_gets_both_probe_addresses) {
  if (!can_make_taps("the_exception_port_gets_both_probe_addresses")) return;
  netns::Private namespace_;
  CHECK(namespace_.entered());
  if (!namespace_.entered()) return;   // IPv6 on by default here, as on most hosts

  PortSpec spec = spec_for("net_null8", "l4lbtap8");
  spec.probe = Prefix{Address::v4(0x0aff0001), 24};
  spec.probe6 = Prefix{v6("2001:db8:ff::1"), 120};
  OpenPort port = open_port(spec, packet_pool(1, 2));
  check_quiet_ipv6("l4lbtap8");
  std::vector<Inet6Address> addresses = settled_inet6_addresses("l4lbtap8");
  CHECK_EQ(addresses.size(), size_t(1));
  if (!addresses.empty()) {
    CHECK_EQ(addresses[0].address, v6("2001:db8:ff::1"));
    CHECK_EQ(addresses[0].prefix_length, 120u);
  }
  CHECK_EQ(inet_address("l4lbtap8"), 0x0aff0001u);
  CHECK(same(read_line("/proc/sys/net/ipv4/conf/l4lbtap8/arp_ignore"), "1"));
  close_port(port);
  CHECK(!port_exists("net_null8"));
}
