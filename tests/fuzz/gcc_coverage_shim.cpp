// Lets clang 14's libFuzzer be coverage-guided by code that g++ 12 instrumented.
//
// The project needs g++ 12 (clang 14 cannot compile libstdc++ 12's <expected>), and GCC only
// emits -fsanitize-coverage=trace-pc (one call per basic block) and trace-cmp. libFuzzer 14
// rejects trace-pc at run time; it wants inline 8-bit counters and a PC table. This file defines
// the trace-pc callback (the build links a copy of libFuzzer whose own definition was made weak)
// and maps each caller PC, hashed, onto a counter slot registered with libFuzzer as one module.
// A slot's PC table entry records the first PC seen there, so -print_pcs shows real locations.
// trace-cmp callbacks go straight to libFuzzer, except the floating-point ones, stubbed here.
//
// Compiled without instrumentation; single-threaded use only (as libFuzzer runs a target).
#include <cstddef>
#include <cstdint>

namespace {

constexpr std::size_t kSlotBits = 16;
constexpr std::size_t kSlots = std::size_t{1} << kSlotBits;

struct PcTableEntry {
  std::uintptr_t pc;
  std::uintptr_t flags;
};

alignas(4096) std::uint8_t g_counters[kSlots];
PcTableEntry g_pcs[kSlots];

}  // namespace

extern "C" {
void __sanitizer_cov_8bit_counters_init(std::uint8_t* start, std::uint8_t* stop);
void __sanitizer_cov_pcs_init(const std::uintptr_t* beg, const std::uintptr_t* end);

__attribute__((no_sanitize_address, no_sanitize_undefined)) void __sanitizer_cov_trace_pc() {
  const auto pc = reinterpret_cast<std::uintptr_t>(__builtin_return_address(0));
  // Fibonacci hashing: the top bits of pc * 2^64/phi spread neighbouring blocks well.
  const std::size_t slot = (pc * 0x9E3779B97F4A7C15ull) >> (64 - kSlotBits);
  if (g_counters[slot] == 0 && g_pcs[slot].pc == 0) g_pcs[slot].pc = pc;
  ++g_counters[slot];
}

// GCC's trace-cmp also reports float and double comparisons; libFuzzer has no use for them.
void __sanitizer_cov_trace_cmpf(float, float) {}
void __sanitizer_cov_trace_cmpd(double, double) {}
}

namespace {

// Registers the counters before main(), as clang's module constructors do.
__attribute__((constructor)) void RegisterCounters() {
  __sanitizer_cov_8bit_counters_init(g_counters, g_counters + kSlots);
  __sanitizer_cov_pcs_init(reinterpret_cast<const std::uintptr_t*>(g_pcs),
                           reinterpret_cast<const std::uintptr_t*>(g_pcs + kSlots));
}

}  // namespace
