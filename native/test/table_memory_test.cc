// Table memory: small tables on ordinary pages, big ones on 2 MB aligned transparent huge
// pages when the kernel honours the advice; either way every byte is usable.
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>

#include "check.h"
#include "table_memory.h"

using namespace l4lb;

namespace {

bool transparent_huge_pages_on() {
  std::ifstream file("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string settings;
  std::getline(file, settings);
  return settings.find("[never]") == std::string::npos && !settings.empty();
}

}  // namespace

TEST(table_memory_small_is_ordinary) {
  TableMemory memory(1000);
  CHECK(memory.backing() == TableMemory::Backing::ordinary_pages);
  CHECK_EQ(reinterpret_cast<uintptr_t>(memory.get()) % 64, uintptr_t(0));
  std::memset(memory.get(), 0xab, 1000);
  CHECK_EQ(static_cast<uint8_t*>(memory.get())[999], uint8_t(0xab));
}

TEST(table_memory_big_uses_huge_pages) {
  constexpr size_t kBytes = (size_t(5) << 20) + 123;   // not a whole number of 2 MB pages
  TableMemory memory(kBytes);
  std::printf("     %zu bytes: %s\n", kBytes, backing_name(memory.backing()));
  if (transparent_huge_pages_on()) {
    CHECK(memory.backing() == TableMemory::Backing::transparent_huge_pages);
    CHECK_EQ(reinterpret_cast<uintptr_t>(memory.get()) % (2u << 20), uintptr_t(0));
  }
  std::memset(memory.get(), 0x5a, kBytes);
  CHECK_EQ(static_cast<uint8_t*>(memory.get())[kBytes - 1], uint8_t(0x5a));
}
