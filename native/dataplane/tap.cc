// Kernel interface settings for the exception path, through /proc/sys and ioctl: the few
// calls needed do not justify a netlink client.
#include "tap.h"

#include <arpa/inet.h>
#include <linux/ipv6.h>   // in6_ifreq; after <netinet/in.h> (by arpa/inet.h), which it defers to
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace l4lb {

namespace {

void write_sysctl(const std::string& path, const char* value) {
  std::ofstream file(path);
  if (!(file << value << '\n') || !file.flush())
    throw std::runtime_error("cannot write " + std::string(value) + " to " + path);
}

class Socket {
 public:
  explicit Socket(int family) : fd_(socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    if (fd_ < 0) throw std::runtime_error(std::string("cannot open a socket: ") + std::strerror(errno));
  }
  ~Socket() { close(fd_); }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  void control(unsigned long request, void* data, const std::string& interface, const char* what) {
    if (ioctl(fd_, request, data) != 0)
      throw std::runtime_error("cannot " + std::string(what) + " of interface " + interface + ": " +
                               std::strerror(errno));
  }

 private:
  int fd_;
};

ifreq request_for(const std::string& interface) {
  if (interface.empty() || interface.size() >= IFNAMSIZ)
    throw std::runtime_error("bad interface name '" + interface + "'");
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, interface.c_str(), interface.size());
  return ifr;
}

void set_inet(ifreq& ifr, uint32_t host_order) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = htonl(host_order);
  std::memcpy(&ifr.ifr_addr, &in, sizeof in);
}

// IPv6 on, with nothing the kernel would add or send by itself. disable_ipv6 comes last, when
// the rest holds: it also overrides a namespace whose all/default settings disable IPv6.
void enable_ipv6(const std::string& interface) {
  if (access("/proc/sys/net/ipv6", F_OK) != 0)
    throw std::runtime_error("cannot give interface " + interface + " an IPv6 probe address: IPv6 is off in this kernel");
  std::string conf = "/proc/sys/net/ipv6/conf/" + interface + "/";
  write_sysctl(conf + "addr_gen_mode", "1");   // none: no link-local address
  for (const char* setting : {"accept_ra", "autoconf", "accept_dad", "dad_transmits", "router_solicitations"})
    write_sysctl(conf + setting, "0");
  write_sysctl(conf + "disable_ipv6", "0");
}

}  // namespace

void isolate_kernel_interface(const std::string& interface, bool ipv6) {
  std::string disable_ipv6 = "/proc/sys/net/ipv6/conf/" + interface + "/disable_ipv6";
  if (ipv6) enable_ipv6(interface);
  else if (access(disable_ipv6.c_str(), F_OK) == 0) write_sysctl(disable_ipv6, "1");   // absent when IPv6 is off
  std::string ipv4 = "/proc/sys/net/ipv4/conf/" + interface + "/";
  write_sysctl(ipv4 + "rp_filter", "2");
  write_sysctl(ipv4 + "arp_ignore", "1");
  write_sysctl(ipv4 + "arp_announce", "2");
  write_sysctl(ipv4 + "forwarding", "0");
}

void set_kernel_address(const std::string& interface, const Prefix& address) {
  Socket sock(AF_INET);
  ifreq ifr = request_for(interface);
  set_inet(ifr, address.address.v4());
  sock.control(SIOCSIFADDR, &ifr, interface, "set the address");
  set_inet(ifr, address.length == 0 ? 0 : ~uint32_t(0) << (32 - address.length));
  sock.control(SIOCSIFNETMASK, &ifr, interface, "set the netmask");
}

void set_kernel_address6(const std::string& interface, const Prefix& address) {
  Socket sock(AF_INET6);
  ifreq ifr = request_for(interface);
  sock.control(SIOCGIFINDEX, &ifr, interface, "read the index");
  in6_ifreq request{};
  address.address.copy_to(request.ifr6_addr.s6_addr);
  request.ifr6_prefixlen = address.length;
  request.ifr6_ifindex = ifr.ifr_ifindex;
  sock.control(SIOCSIFADDR, &request, interface, "set the IPv6 address");
}

void bring_up_kernel_interface(const std::string& interface) {
  Socket sock(AF_INET);
  ifreq ifr = request_for(interface);
  sock.control(SIOCGIFFLAGS, &ifr, interface, "read the flags");
  ifr.ifr_flags |= IFF_UP;
  sock.control(SIOCSIFFLAGS, &ifr, interface, "bring up");
}

}  // namespace l4lb
