// The kernel side of a NIC's exception port (the net_tap interface): what the host may do
// with it. Control thread only; errors are std::runtime_error naming the interface.
#pragma once

#include <string>

#include "config.h"

namespace l4lb {

// Makes the kernel interface answer only for its own addresses: ARP replies only for addresses
// on this interface, loose reverse-path filtering (the data plane hands it frames from
// anywhere), no forwarding of what arrives on it. IPv6 is off unless `ipv6`; then it is on
// without a link-local address (the data plane passes no fe80:: traffic), autoconfiguration,
// router solicitations or duplicate address detection. Call before the interface comes up.
// Throws when `ipv6` and the kernel has no IPv6.
void isolate_kernel_interface(const std::string& interface, bool ipv6);

// Gives the kernel interface `address` (IPv4, with its prefix length).
void set_kernel_address(const std::string& interface, const Prefix& address);

// Gives the kernel interface `address` (IPv6, with its prefix length); after
// isolate_kernel_interface(interface, true).
void set_kernel_address6(const std::string& interface, const Prefix& address);

void bring_up_kernel_interface(const std::string& interface);

}  // namespace l4lb
