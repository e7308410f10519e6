// Local ports of one worker. Return traffic reaches the worker that owns the local port
// (owner_of_local_port: port % workers), so each worker hands out only its own slice of every
// local address's range and needs no lock.
//
// Per local address, created on first use:
//   held    one bit per port: taken by a session (allocated, or reserved for a synced one);
//   ring    a FIFO of free ports of the slice within the pool's current [min, max];
//   queued  one bit per port: the port is in the ring (so it is never there twice).
// allocate() pops from the front, release() pushes to the back: a released port comes back
// only after every other free port has been used, which gives the real server's TIME_WAIT for
// the old connection the longest time to end before the same local port connects again. The
// ring is filled from a random point of the slice, so a restarted worker does not start again
// with the ports its predecessor used last.
//
// reserve() only sets the held bit; if the port is in the ring it stays there, and allocate()
// skips it when it reaches the front. Each reserve leaves at most one such stale entry, so
// allocate stays O(1) amortized; release and reserve are O(1).
//
// A pool's range can change with the configuration. The ring holds ports of one range; when
// allocate() is asked for another, the ring is rebuilt from the held bits (O(slice), once per
// change), so a port outside the current range is never handed out. A port released while
// outside the range goes back to no ring; a later rebuild for a wider range finds it free.
#include <bitset>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include <rte_random.h>

#include "sessions.h"
#include "worker.h"

namespace l4lb {

namespace {

constexpr uint32_t kPorts = 65536;

struct AddressPorts {
  std::bitset<kPorts> held, queued;
  std::vector<uint16_t> ring;
  uint32_t front = 0, count = 0;
  uint16_t min = 1, max = 0;   // the range the ring holds; min > max: not built yet
  uint32_t in_use = 0;

  bool in_range(uint16_t port) const { return port >= min && port <= max; }
  void push(uint16_t port) {
    ring[(front + count++) % ring.size()] = port;
    queued[port] = true;
  }
  uint16_t pop() {
    const uint16_t port = ring[front];
    front = (front + 1) % ring.size();
    --count;
    queued[port] = false;
    return port;
  }
};

}  // namespace

struct LocalPorts::Impl {
  uint16_t worker, workers;
  std::unordered_map<Address, AddressPorts, AddressHash> addresses;

  AddressPorts& state(const Address& address) {
    AddressPorts& a = addresses[address];
    if (a.ring.empty()) a.ring.resize(kPorts / workers + 1);
    return a;
  }

  bool owned(uint16_t port) const { return owner_of_local_port(port, workers) == worker; }

  // Refills the ring with the free owned ports of [min, max], starting at a random one.
  void rebuild(AddressPorts& a, uint16_t min, uint16_t max) {
    a.queued.reset();
    a.front = a.count = 0;
    a.min = min;
    a.max = max;
    const uint32_t low = min == 0 ? 1 : min;
    const uint32_t first = low + (worker + workers - low % workers) % workers;   // first owned
    if (first > max) return;
    const uint32_t n = (max - first) / workers + 1;
    const uint32_t start = static_cast<uint32_t>(rte_rand() % n);
    for (uint32_t k = 0; k < n; ++k) {
      const uint16_t port = static_cast<uint16_t>(first + (start + k) % n * workers);
      if (!a.held[port]) a.push(port);
    }
  }
};

LocalPorts::LocalPorts(uint16_t worker, uint16_t workers) : impl_(std::make_unique<Impl>()) {
  if (workers == 0 || worker >= workers) throw std::invalid_argument("worker must be below workers");
  impl_->worker = worker;
  impl_->workers = workers;
}

LocalPorts::~LocalPorts() = default;

// Per new session. Cost: a hash-map lookup of the address, then O(1) amortized; O(slice) once
// after the range changed.
uint16_t LocalPorts::allocate(const Address& address, uint16_t min, uint16_t max) {
  AddressPorts& a = impl_->state(address);
  if (min != a.min || max != a.max) impl_->rebuild(a, min, max);
  while (a.count > 0) {
    const uint16_t port = a.pop();
    if (a.held[port]) continue;   // reserved while it waited in the ring
    a.held[port] = true;
    ++a.in_use;
    return port;
  }
  return 0;
}

bool LocalPorts::reserve(const Address& address, uint16_t port) {
  if (port == 0) return false;
  AddressPorts& a = impl_->state(address);
  if (a.held[port]) return false;
  a.held[port] = true;
  ++a.in_use;
  return true;
}

void LocalPorts::release(const Address& address, uint16_t port) {
  auto it = impl_->addresses.find(address);
  if (it == impl_->addresses.end()) return;
  AddressPorts& a = it->second;
  if (!a.held[port]) return;
  a.held[port] = false;
  --a.in_use;
  if (a.in_range(port) && impl_->owned(port) && !a.queued[port]) a.push(port);
}

uint32_t LocalPorts::in_use(const Address& address) const {
  auto it = impl_->addresses.find(address);
  return it == impl_->addresses.end() ? 0 : it->second.in_use;
}

std::unique_ptr<LocalPorts> make_local_ports(uint16_t worker, uint16_t workers) {
  return std::make_unique<LocalPorts>(worker, workers);
}

}  // namespace l4lb
