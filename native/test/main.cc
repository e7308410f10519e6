// Runs the registered native tests inside one EAL started without hugepages, so the tests
// need no root and leave nothing behind.
#include <cstdio>
#include <cstring>

#include <rte_eal.h>

#include "check.h"

namespace check {
std::vector<Test>& registry() {
  static std::vector<Test> tests;
  return tests;
}
int failures = 0;
}  // namespace check

int main(int argc, char** argv) {
  const char* eal_args[] = {"native-tests", "--no-huge", "--no-shconf", "-m", "512", "--no-pci",
                            "--log-level", "lib.eal:error", "-l", "0"};
  if (rte_eal_init(sizeof eal_args / sizeof *eal_args, const_cast<char**>(eal_args)) < 0) {
    std::fprintf(stderr, "EAL init failed\n");
    return 2;
  }
  const char* filter = argc > 1 ? argv[1] : "";
  int passed = 0, failed = 0;
  for (auto& test : check::registry()) {
    if (!std::strstr(test.name, filter)) continue;
    check::failures = 0;
    test.body();
    if (check::failures == 0) {
      ++passed;
      std::printf("ok   %s\n", test.name);
    } else {
      ++failed;
      std::printf("FAIL %s\n", test.name);
    }
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  rte_eal_cleanup();
  return failed == 0 ? 0 : 1;
}
