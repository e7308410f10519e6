// Text forms of addresses, for the control plane and the tests; never on the packet path.
#include "address.h"

#include <arpa/inet.h>

namespace l4lb {

bool parse_address(const std::string& text, Address* out) {
  uint8_t bytes[16];
  in_addr v4;
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    *out = Address::v4(rte_be_to_cpu_32(v4.s_addr));
    return true;
  }
  if (inet_pton(AF_INET6, text.c_str(), bytes) != 1) return false;
  *out = Address::v6(bytes);
  return true;
}

std::string format_address(const Address& a) {
  char text[INET6_ADDRSTRLEN];
  if (a.is_v4()) {
    in_addr v4{a.v4_be()};
    return inet_ntop(AF_INET, &v4, text, sizeof text);
  }
  uint8_t bytes[16];
  a.copy_to(bytes);
  return inet_ntop(AF_INET6, bytes, text, sizeof text);
}

}  // namespace l4lb
