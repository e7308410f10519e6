// The kernel side of a NIC's exception port (the net_tap interface): what the host may do
// with it. Control thread only; errors are std::runtime_error naming the interface.
#pragma once

#include <string>

#include "config.h"

namespace l4lb {

// Makes the kernel interface answer only for its own IPv4 address: no IPv6, ARP replies only
// for addresses on this interface, loose reverse-path filtering (the data plane hands it frames
// from anywhere), no forwarding of what arrives on it. Call before the interface comes up.
void isolate_kernel_interface(const std::string& interface);

// Gives the kernel interface `address` (IPv4 host byte order, with its prefix length) and
// brings it up.
void set_kernel_address(const std::string& interface, const Prefix& address);

}  // namespace l4lb
