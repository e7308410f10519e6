// Huge-page backed table memory; the order of the sources is explained in table_memory.h.
#include "table_memory.h"

#include <sys/mman.h>

#include <cstdint>
#include <fstream>
#include <new>
#include <string>

#include <rte_eal.h>
#include <rte_malloc.h>

namespace l4lb {

namespace {

constexpr size_t kHugePage = size_t(2) << 20;
constexpr size_t kPage = 4096;
constexpr const char* kTransparentHugePages = "/sys/kernel/mm/transparent_hugepage/enabled";

size_t round_up(size_t bytes, size_t unit) { return (bytes + unit - 1) / unit * unit; }

// "always [madvise] never": the bracketed word is the mode in force.
bool transparent_huge_pages_honoured() {
  std::ifstream file(kTransparentHugePages);
  std::string settings;
  std::getline(file, settings);
  return settings.find("[always]") != std::string::npos || settings.find("[madvise]") != std::string::npos;
}

void* map_anonymous(size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

// A 2 MB aligned mapping of `bytes` (a multiple of 2 MB): map 2 MB more, unmap the slack.
void* map_huge_aligned(size_t bytes) {
  auto* raw = static_cast<uint8_t*>(map_anonymous(bytes + kHugePage));
  if (!raw) return nullptr;
  const uintptr_t address = reinterpret_cast<uintptr_t>(raw);
  auto* aligned = reinterpret_cast<uint8_t*>(round_up(address, kHugePage));
  const size_t head = size_t(aligned - raw), tail = kHugePage - head;
  if (head) munmap(raw, head);
  if (tail) munmap(aligned + bytes, tail);
  return aligned;
}

}  // namespace

TableMemory::TableMemory(size_t bytes) {
  if (bytes >= kHugePage && transparent_huge_pages_honoured()) {
    mapped_ = round_up(bytes, kHugePage);
    pointer_ = map_huge_aligned(mapped_);
    if (pointer_ && madvise(pointer_, mapped_, MADV_HUGEPAGE) == 0) {
      backing_ = Backing::transparent_huge_pages;
      return;
    }
    if (pointer_) munmap(pointer_, mapped_);
    pointer_ = nullptr;
  }
  if (bytes >= kHugePage && rte_eal_has_hugepages() && (pointer_ = rte_malloc("l4lb_table", bytes, 64))) {
    mapped_ = 0;
    backing_ = Backing::eal_hugepages;
    return;
  }
  mapped_ = round_up(bytes, kPage);
  pointer_ = map_anonymous(mapped_);
  if (!pointer_) throw std::bad_alloc();
  backing_ = Backing::ordinary_pages;
}

TableMemory::~TableMemory() {
  if (backing_ == Backing::eal_hugepages) rte_free(pointer_);
  else munmap(pointer_, mapped_);
}

const char* backing_name(TableMemory::Backing b) {
  switch (b) {
    case TableMemory::Backing::transparent_huge_pages: return "transparent huge pages";
    case TableMemory::Backing::eal_hugepages: return "EAL hugepages";
    case TableMemory::Backing::ordinary_pages: return "ordinary pages";
  }
  return "?";
}

}  // namespace l4lb
