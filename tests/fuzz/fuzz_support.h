// Shared by the fuzz targets: a check that reports the violated property and aborts, so that
// libFuzzer records the input as a crash. Properties, not just crashes, are what the targets
// assert (a decoded value re-encodes, a parsed duration formats back...).
#pragma once

#include <cstdint>
#include <string_view>

namespace hdm::fuzz {

[[noreturn]] void PropertyFailed(const char* file, int line, const char* condition,
                                 std::string_view detail);

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace hdm::fuzz

// FUZZ_CHECK(cond, detail): `detail` is any string-like value, printed when `cond` fails.
#define FUZZ_CHECK(cond, detail)                                                 \
  do {                                                                           \
    if (!(cond)) ::hdm::fuzz::PropertyFailed(__FILE__, __LINE__, #cond, detail); \
  } while (false)
