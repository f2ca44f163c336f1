#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: unit, integration and end-to-end
# (ctest), then the same suite under AddressSanitizer+UndefinedBehaviorSanitizer and the
# scheduler and server tests under ThreadSanitizer. `--quick` skips the sanitizer builds.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${JOBS:-2}"

scripts/install-deps.sh --test

run_suite() {  # build-dir, cmake args..., then ctest regex via $CTEST_REGEX
  local dir="$1"; shift
  cmake -S . -B "$dir" -DHDM_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j"$jobs"
  (cd "$dir" && ctest --output-on-failure -j"$jobs" ${CTEST_REGEX:+-R "$CTEST_REGEX"})
}

echo "== build and test (RelWithDebInfo)"
run_suite build -DCMAKE_BUILD_TYPE=RelWithDebInfo

if [[ "${1:-}" != "--quick" ]]; then
  echo "== ASan+UBSan"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DHDM_SANITIZE=address,undefined
  echo "== TSan (scheduler and servers)"
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
  CTEST_REGEX='^(SchedulerTest|DaemonTest|Faults/|SecretsTest)' \
    run_suite build-tsan -DCMAKE_BUILD_TYPE=Debug -DHDM_SANITIZE=thread
fi
echo "== all tests passed"
