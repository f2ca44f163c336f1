#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test on this machine's Debian release (12 or
# 13) and on the other one:
#  1. unit, integration and end-to-end (ctest), under AddressSanitizer+UndefinedBehaviorSanitizer
#     (build-asan/, which also holds the libFuzzer targets);
#  2. the scheduler, daemon, policy loop, HTTP and fault tests again under ThreadSanitizer
#     (build-tsan/);
#  3. every libFuzzer target for 15 s, built from build-asan's objects;
#  4. the .deb of this release (build-debianNN/, -O2 as shipped), installed with apt-get into a
#     fresh copy of a pristine minbase root of this release, where it must run --version and
#     --check-config on the shipped config;
#  5. the other release (Debian 13 on a Debian 12 machine, and the reverse) in a debootstrap root
#     cached under /var/cache/hotdata-monitor: its whole ctest suite (-O2 as shipped, warnings
#     are errors), its .deb, and that .deb installed into a fresh copy of its pristine root.
#     scripts/debian-root.sh does this (and can run each step alone).
# Steps 4 and 5 need root and Debian's archive; without them the run fails, it never skips.
# `--quick` builds without sanitizers and runs ctest only (no TSan, fuzzing, .deb or other root).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${JOBS:-2}"
export JOBS="$jobs"

scripts/install-deps.sh --test

# step NAME FUNCTION: runs FUNCTION in a subshell with errexit, prints its time; a failed step
# is reported and the next steps still run (each one is independent), and the run fails at the
# end, naming every failed step.
failed=()
step() {
  local name="$1" start=$SECONDS
  shift
  echo "== $name"
  # Not `if ( ... )` or `( ... ) || ...`: errexit would be ignored inside.
  local rc=0
  set +e
  ( set -e; "$@" )
  rc=$?
  set -e
  if ((rc == 0)); then
    echo "== $name: done in $((SECONDS - start)) s"
  else
    echo "== $name: FAILED after $((SECONDS - start)) s" >&2
    failed+=("$name")
  fi
}

# run_suite DIR "CMAKE ARGS" "TARGETS (empty: all)" "CTEST REGEX (empty: all)"
run_suite() {
  local dir="$1" args="$2" targets="$3" regex="$4"
  # shellcheck disable=SC2086
  cmake -S . -B "$dir" -DHDM_WERROR=ON $args >/dev/null
  # shellcheck disable=SC2086
  cmake --build "$dir" -j"$jobs" ${targets:+--target $targets}
  (cd "$dir" && ctest --output-on-failure -j"$jobs" ${regex:+-R "$regex"})
}

if [[ "${1:-}" == "--quick" ]]; then
  echo "== build and test (no sanitizers)"
  run_suite build "-DCMAKE_BUILD_TYPE=RelWithDebInfo" "" ""
  echo "== all tests passed"
  exit 0
fi

# shellcheck disable=SC1091
host_release="$(. /etc/os-release && echo "${VERSION_ID:-}")"
case "$host_release" in
  12) other_release=13 ;;
  13) other_release=12 ;;
  *) echo "scripts/test.sh: this is not Debian 12 or 13 (VERSION_ID=$host_release)" >&2; exit 1 ;;
esac
[[ $(id -u) -eq 0 ]] || { echo "scripts/test.sh: the .deb and Debian $other_release steps need root (chroot, mount)" >&2; exit 1; }

asan_suite() {
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  run_suite build-asan "-DCMAKE_BUILD_TYPE=Debug -DHDM_SANITIZE=address,undefined -DHDM_FUZZ=ON" "" ""
}

tsan_suite() {
  # report_mutex_bugs=0: GCC 12's TSan does not intercept pthread_cond_clockwait, which
  # libstdc++'s condition_variable::wait_for uses, and then reports the mutex as unlocked twice.
  # Races are still reported; tests/tsan.supp says which libraries are left out and why.
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:report_mutex_bugs=0:suppressions=$PWD/tests/tsan.supp"
  run_suite build-tsan "-DCMAKE_BUILD_TYPE=Debug -DHDM_SANITIZE=thread" \
    "test_health test_hotdata test_integration hotdata-monitor hotdata-simulator" \
    '^(SchedulerTest|SelectionTest|DaemonTest|PolicyLoopTest|Faults/|SecretsTest|SecurityDaemonTest|OpsDaemonTest|ServerLoadTest\.Silent|ServerLoadTlsTest|ServerLimitsTest|ElasticPoolTest|ApiMisbehaviourDaemonTest|StateSaveErrorsTest|RestartMemoryTest|HttpClientRetryTest|StaleKeepAliveTest|AlertWebhookDaemonTest)'
}

fuzzers() {
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  scripts/fuzz.sh --build-dir build-asan --seconds 15
}

host_deb() {
  local dir="build-debian$host_release" deb
  # -O2 without -g: cpack strips the binary (CPACK_STRIP_FILES), so debug info would be compiled
  # only to be thrown away; g++ generates the same code with and without -g.
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
    -DHDM_WERROR=ON -DHDM_BUILD_TESTS=OFF >/dev/null
  cmake --build "$dir" -j"$jobs" --target hotdata-monitor  # all that cpack packs
  rm -rf "$dir/package"
  (cd "$dir" && cpack -G DEB -B package >package.log 2>&1) || { cat "$dir/package.log"; exit 1; }
  deb="$(ls "$dir"/package/hotdata-monitor_*.deb)"
  dpkg-deb -f "$deb" Package Version Architecture Depends
  scripts/debian-root.sh install-test "$host_release" "$deb"
}

other_release_root() {
  scripts/debian-root.sh test "$other_release"
}

step "every test under ASan+UBSan (with the fuzzers, built from the same objects)" asan_suite
step "scheduler, daemon, policy loop, HTTP server and client, and faults under TSan" tsan_suite
step "fuzzers, 15 s each under ASan+UBSan, in build-asan (scripts/fuzz.sh --seconds 600 runs them longer)" fuzzers
step "the Debian $host_release .deb (build-debian$host_release/), installed into a fresh Debian $host_release root" host_deb
step "Debian $other_release in a debootstrap root: whole ctest suite, .deb, installed into a fresh root" other_release_root

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "== FAILED after $SECONDS s:" >&2
  printf '   %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "== all tests passed in $SECONDS s"
