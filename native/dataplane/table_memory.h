// Memory for a worker's big tables: the session array and its index.
//
// Why huge pages. A lookup lands on a random index line and then on a random session, so with
// 4 KB pages every lookup also misses the TLB: 1M sessions span ~40,000 pages, far beyond the
// TLB's reach, and under a hypervisor each TLB miss is a two-dimensional page walk. With 2 MB
// pages the whole table is ~80 pages, which the second-level TLB holds.
//
// Where the memory comes from, in this order:
//   1. Transparent huge pages, for tables of 2 MB or more when the kernel honours the advice
//      (/sys/kernel/mm/transparent_hugepage/enabled is "always" or "madvise"): an anonymous
//      mapping aligned to 2 MB with madvise(MADV_HUGEPAGE). Not the EAL's hugepages: those are
//      few, shared with other DPDK processes and meant for packet buffers (the appliance asks
//      for 128 MB), and one 1M-session table (~130 MB) would take them all.
//   2. The EAL's hugepage memory (rte_malloc), when transparent huge pages are off and the EAL
//      runs on hugepages and has room.
//   3. Ordinary pages: the same anonymous mapping without the advice. Small tables (tests,
//      tiny appliances) always come from here: a 2 MB page for a few KB would waste memory.
// The table writes every byte when it is built, so all pages are faulted in then, on the
// control thread (and on its NUMA node), never on the packet path.
#pragma once

#include <cstddef>

namespace l4lb {

class TableMemory {
 public:
  enum class Backing { transparent_huge_pages, eal_hugepages, ordinary_pages };

  // At least `bytes`, 64-byte aligned (2 MB aligned when backed by transparent huge pages).
  // Throws std::bad_alloc when no memory is left.
  explicit TableMemory(size_t bytes);
  ~TableMemory();
  TableMemory(const TableMemory&) = delete;
  TableMemory& operator=(const TableMemory&) = delete;

  void* get() const { return pointer_; }
  Backing backing() const { return backing_; }

 private:
  void* pointer_ = nullptr;
  size_t mapped_ = 0;   // bytes mapped (0 when from the EAL)
  Backing backing_ = Backing::ordinary_pages;
};

const char* backing_name(TableMemory::Backing b);

}  // namespace l4lb
