#include "fuzz_support.h"

#include <cstdio>
#include <cstdlib>

namespace hdm::fuzz {

void PropertyFailed(const char* file, int line, const char* condition, std::string_view detail) {
  std::fprintf(stderr, "\n== fuzz property violated at %s:%d: %s\n== %.*s\n", file, line, condition,
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

}  // namespace hdm::fuzz

// Defaults for running a fuzzer binary by hand; ASAN_OPTIONS / UBSAN_OPTIONS still override.
// A UBSan report must stop the run, or libFuzzer would not keep the input.
extern "C" const char* __asan_default_options() {
  return "detect_leaks=1:abort_on_error=1:symbolize=1";
}
extern "C" const char* __ubsan_default_options() {
  return "halt_on_error=1:abort_on_error=1:print_stacktrace=1";
}
