#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz under ASan+UBSan into build-fuzz/ and runs each for
# a bounded time on a copy of its seed corpus (tests/fuzz/corpus/<target>/), so the repository's
# corpus is left alone. Exits non-zero on any crash, leak, UBSan report, timeout or violated
# property; the input that triggered it is kept in BUILD/findings/<target>/.
#
#   scripts/fuzz.sh                        every target, 20 s each, in build-fuzz/ (RelWithDebInfo)
#   scripts/fuzz.sh --seconds 600 config   one target, ten minutes
#   scripts/fuzz.sh --merge                afterwards, minimise what the runs found into the
#                                          repository's corpus (review, then commit)
#   scripts/fuzz.sh --build-dir build-asan an existing build configured with -DHDM_FUZZ=ON and
#                                          ASan+UBSan (scripts/test.sh's): its objects are reused
# Targets: api_decode http_response config duration cron http_server http_request webhook (those whose
# tests/fuzz/fuzz_<target>.cpp exists). JOBS (default 2): build parallelism, and how many
# fuzzers run at once.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${JOBS:-2}"
seconds=20
merge=0
build=""
targets=()
all_targets=()
for t in api_decode http_response config duration cron http_server http_request webhook; do
  [[ -f tests/fuzz/fuzz_$t.cpp ]] && all_targets+=("$t")
done

while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --seconds=*) seconds="${1#*=}"; shift ;;
    --merge) merge=1; shift ;;
    --build-dir) build="$2"; shift 2 ;;
    --build-dir=*) build="${1#*=}"; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) targets+=("${1#fuzz_}"); shift ;;
  esac
done
[[ ${#targets[@]} -eq 0 ]] && targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  [[ " ${all_targets[*]} " == *" $t "* ]] || { echo "unknown target $t (${all_targets[*]})" >&2; exit 2; }
done

scripts/install-deps.sh --test

if [[ -z "$build" ]]; then
  build="build-fuzz"
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHDM_FUZZ=ON -DHDM_BUILD_TESTS=OFF \
    -DHDM_SANITIZE=address,undefined >/dev/null
else
  # Reuse a build as it is configured: only the fuzzers are built (their libraries usually are).
  cache="$build/CMakeCache.txt"
  grep -q '^HDM_FUZZ:BOOL=ON$' "$cache" 2>/dev/null \
    || { echo "$build is not a build configured with -DHDM_FUZZ=ON" >&2; exit 2; }
  grep -q '^HDM_SANITIZE:STRING=address,undefined$' "$cache" \
    || { echo "$build is not configured with -DHDM_SANITIZE=address,undefined" >&2; exit 2; }
fi
cmake --build "$build" -j"$jobs" --target "${targets[@]/#/fuzz_}"

# Per target: the longest input worth trying (-max_len), and whether a dictionary exists.
declare -A max_len=([api_decode]=16384 [http_response]=8192 [config]=8192 [duration]=64 [cron]=128
                    [http_server]=8192 [http_request]=16384 [webhook]=16384)

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1"
# fuzz_one TARGET: one bounded run; writes ok or FAILED to $build/result-TARGET.
fuzz_one() {
  local t="$1" corpus="$build/corpus/$1" findings="$build/findings/$1" log="$build/fuzz-$1.log"
  rm -rf "$corpus" && mkdir -p "$corpus" "$findings"
  if [[ -d tests/fuzz/corpus/$t ]]; then cp tests/fuzz/corpus/"$t"/* "$corpus"/; fi
  local args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="${max_len[$t]}"
              -print_final_stats=1 -artifact_prefix="$findings/" -use_value_profile=1)
  [[ -f tests/fuzz/dict/$t.dict ]] && args+=(-dict="tests/fuzz/dict/$t.dict")
  # The seed corpus stays read-only for the fuzzer: new inputs go to the copy.
  if "$build/tests/fuzz/fuzz_$t" "${args[@]}" "$corpus" >"$log" 2>&1; then
    echo ok >"$build/result-$t"
  else
    echo FAILED >"$build/result-$t"
  fi
}

# A fuzzer uses one core: JOBS of them run at once (each still gets its full time).
echo "== ${targets[*]}: ${seconds}s each, $jobs at a time"
running=0
for t in "${targets[@]}"; do
  rm -f "$build/result-$t"
  fuzz_one "$t" &
  if ((++running >= jobs)); then
    wait -n || true
    ((running--)) || true
  fi
done
wait

failed=()
summary=()
for t in "${targets[@]}"; do
  log="$build/fuzz-$t.log"
  result="$(cat "$build/result-$t" 2>/dev/null || echo FAILED)"
  if [[ $result != ok ]]; then
    failed+=("$t")
    echo "== fuzz_$t failed; the end of $log:" >&2
    tail -n 60 "$log" >&2
  fi
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)"
  cov="$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n1)"
  summary+=("fuzz_$t: $result, ${execs:-?} executions in ${seconds}s, ${cov:-cov: ?}, corpus $(find "$build/corpus/$t" -type f | wc -l) inputs")
  if [[ $merge -eq 1 && $result == ok ]]; then
    # Keep the repository corpus small: only inputs that add coverage to it.
    mkdir -p tests/fuzz/corpus/"$t"
    "$build/tests/fuzz/fuzz_$t" -merge=1 -max_len="${max_len[$t]}" \
      tests/fuzz/corpus/"$t" "$build/corpus/$t" >"$build/merge-$t.log" 2>&1
    echo "   merged into tests/fuzz/corpus/$t: $(find tests/fuzz/corpus/"$t" -type f | wc -l) inputs"
  fi
done

echo "== summary"
printf '%s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "== FAILED: ${failed[*]} (inputs in $build/findings/; logs in $build/fuzz-*.log)" >&2
  exit 1
fi
