// No-op coverage callbacks for the programs that link a library instrumented for fuzzing but
// are not fuzzers: the daemon, the simulator, the tests and the benchmark of a build configured
// with -DHDM_FUZZ=ON (scripts/test.sh builds the fuzzers in its ASan+UBSan test build, build-asan/,
// instead of a build of their own). The fuzzers link gcc_coverage_shim.cpp and libFuzzer instead
// (tests/fuzz/CMakeLists.txt picks one or the other per program). Compiled without
// instrumentation. GCC's -fsanitize-coverage=trace-pc,trace-cmp calls exactly these.
#include <cstdint>

extern "C" {
void __sanitizer_cov_trace_pc() {}
void __sanitizer_cov_trace_cmp1(std::uint8_t, std::uint8_t) {}
void __sanitizer_cov_trace_cmp2(std::uint16_t, std::uint16_t) {}
void __sanitizer_cov_trace_cmp4(std::uint32_t, std::uint32_t) {}
void __sanitizer_cov_trace_cmp8(std::uint64_t, std::uint64_t) {}
void __sanitizer_cov_trace_const_cmp1(std::uint8_t, std::uint8_t) {}
void __sanitizer_cov_trace_const_cmp2(std::uint16_t, std::uint16_t) {}
void __sanitizer_cov_trace_const_cmp4(std::uint32_t, std::uint32_t) {}
void __sanitizer_cov_trace_const_cmp8(std::uint64_t, std::uint64_t) {}
void __sanitizer_cov_trace_cmpf(float, float) {}
void __sanitizer_cov_trace_cmpd(double, double) {}
void __sanitizer_cov_trace_switch(std::uint64_t, std::uint64_t*) {}
}
