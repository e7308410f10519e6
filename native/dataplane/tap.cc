// Kernel interface settings for the exception path, through /proc/sys and ioctl: the few
// calls needed do not justify a netlink client.
#include "tap.h"

#include <arpa/inet.h>
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

class InetSocket {
 public:
  InetSocket() : fd_(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    if (fd_ < 0) throw std::runtime_error(std::string("cannot open a socket: ") + std::strerror(errno));
  }
  ~InetSocket() { close(fd_); }
  InetSocket(const InetSocket&) = delete;
  InetSocket& operator=(const InetSocket&) = delete;

  void control(unsigned long request, ifreq& ifr, const char* what) {
    if (ioctl(fd_, request, &ifr) != 0)
      throw std::runtime_error("cannot " + std::string(what) + " of interface " + ifr.ifr_name + ": " +
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

}  // namespace

void isolate_kernel_interface(const std::string& interface) {
  std::string ipv6 = "/proc/sys/net/ipv6/conf/" + interface + "/disable_ipv6";
  if (access(ipv6.c_str(), F_OK) == 0) write_sysctl(ipv6, "1");   // absent when IPv6 is off
  std::string ipv4 = "/proc/sys/net/ipv4/conf/" + interface + "/";
  write_sysctl(ipv4 + "rp_filter", "2");
  write_sysctl(ipv4 + "arp_ignore", "1");
  write_sysctl(ipv4 + "arp_announce", "2");
  write_sysctl(ipv4 + "forwarding", "0");
}

void set_kernel_address(const std::string& interface, const Prefix& address) {
  InetSocket sock;
  if (!address.address.is_v4()) throw std::runtime_error("the probe address of " + interface + " must be IPv4");
  ifreq ifr = request_for(interface);
  set_inet(ifr, address.address.v4());
  sock.control(SIOCSIFADDR, ifr, "set the address");
  set_inet(ifr, address.length == 0 ? 0 : ~uint32_t(0) << (32 - address.length));
  sock.control(SIOCSIFNETMASK, ifr, "set the netmask");
  ifr = request_for(interface);
  sock.control(SIOCGIFFLAGS, ifr, "read the flags");
  ifr.ifr_flags |= IFF_UP;
  sock.control(SIOCSIFFLAGS, ifr, "bring up");
}

}  // namespace l4lb
