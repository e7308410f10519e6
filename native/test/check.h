// A minimal test registry: TEST(name) { CHECK(...); } — main() in test/main.cc runs every test
// (or those whose name contains argv[1]) and prints "N passed, N failed".
#pragma once

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace check {

struct Test {
  const char* name;
  std::function<void()> body;
};

std::vector<Test>& registry();
extern int failures;  // of the running test

struct Register {
  Register(const char* name, std::function<void()> body) { registry().push_back({name, std::move(body)}); }
};

// A value as CHECK_EQ prints it: std::to_string, or a to_string() found beside its type.
template <class T>
std::string text(const T& value) {
  using std::to_string;
  return to_string(value);
}

}  // namespace check

#define CHECK_CAT2(a, b) a##b
#define CHECK_CAT(a, b) CHECK_CAT2(a, b)
#define TEST(name)                                                   \
  static void name();                                                \
  static check::Register CHECK_CAT(register_, name)(#name, name);    \
  static void name()

#define CHECK(cond)                                                                  \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      std::fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
      ++check::failures;                                                             \
    }                                                                                \
  } while (0)

#define CHECK_EQ(a, b)                                                                      \
  do {                                                                                      \
    auto check_a = (a);                                                                     \
    auto check_b = (b);                                                                     \
    if (!(check_a == check_b)) {                                                            \
      std::fprintf(stderr, "  %s:%d: CHECK_EQ(%s, %s) failed: %s vs %s\n", __FILE__, __LINE__, \
                   #a, #b, check::text(check_a).c_str(), check::text(check_b).c_str()); \
      ++check::failures;                                                                    \
    }                                                                                       \
  } while (0)
