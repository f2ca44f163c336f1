#!/usr/bin/env bash
# End to end: hotdata-simulator, the real daemon binary, curl and promtool. Checks that the
# exposition passes `promtool check metrics`, that gzip works, that SIGTERM exits 0 quickly,
# and that nothing the daemon wrote at debug level contains the token.
# Usage: exposition_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build="$1"
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; echo "--- daemon log:" >&2; cat "$work/daemon.log" >&2 || true; exit 1; }
wait_for() {  # seconds, command...
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do ((SECONDS < deadline)) || return 1; sleep 0.1; done
}

token="e2e-token-$RANDOM$RANDOM"
"$build/hotdata-simulator" --connections 20 --token "$token" --url-file "$work/url" \
  >"$work/sim.log" 2>&1 &
pids+=($!)
wait_for 10 test -s "$work/url" || fail "simulator did not start"

cat >"$work/config.yaml" <<YAML
api:
  base_url: $(cat "$work/url")
  token_file: $work/token
  timeout: 5s
scheduler: { interval: 1s, discovery_interval: 5s, concurrency: 4 }
server: { listen: "127.0.0.1:0" }
state_file: $work/state.json
YAML
printf '%s\n' "$token" >"$work/token"

"$build/hotdata-monitor" --config "$work/config.yaml" --log-level debug >"$work/daemon.log" 2>&1 &
daemon=$!
pids+=($daemon)
wait_for 10 grep -q "listening on" "$work/daemon.log" || fail "daemon did not start"
port="$(sed -n 's/.*(port \([0-9]*\)[,)].*/\1/p' "$work/daemon.log" | head -1)"
url="http://127.0.0.1:$port"
wait_for 10 curl -sf "$url/readyz" || fail "/readyz never turned 200"
wait_for 10 sh -c "curl -sf $url/metrics | grep -q '^hotdata_monitor_last_round_timestamp_seconds '" \
  || fail "no completed round"

curl -sf "$url/metrics" >"$work/metrics.txt"
promtool check metrics <"$work/metrics.txt" >"$work/promtool.out" 2>&1 \
  || { cat "$work/promtool.out"; fail "promtool check metrics"; }
[[ ! -s "$work/promtool.out" ]] || { cat "$work/promtool.out"; fail "promtool reported problems"; }
[[ $(grep -c '^hotdata_connection_healthy{' "$work/metrics.txt") -eq 20 ]] \
  || fail "expected 20 hotdata_connection_healthy series"

encoding="$(curl -s -o /dev/null -D - -H 'Accept-Encoding: gzip' "$url/metrics" \
  | tr -d '\r' | sed -n 's/^[Cc]ontent-[Ee]ncoding: //p')"
[[ "$encoding" == "gzip" ]] || fail "no gzip encoding (got '$encoding')"
# To a file, not a pipe into grep -q: under pipefail, grep quitting early fails curl (SIGPIPE).
curl -sf --compressed "$url/metrics" >"$work/metrics-gzip.txt" || fail "gzip scrape"
grep -q '^hotdata_monitor_connections 20$' "$work/metrics-gzip.txt" \
  || fail "gzip body does not decode to the exposition"
curl -sf "$url/api/v1/status" >"$work/status.json"

start=$SECONDS
kill -TERM "$daemon"
wait "$daemon" || fail "daemon exited non-zero on SIGTERM"
((SECONDS - start <= 5)) || fail "SIGTERM took $((SECONDS - start)) s"

if grep -q "$token" "$work/daemon.log" "$work/metrics.txt" "$work/status.json"; then
  fail "the token appears in the daemon's output"
fi
echo "exposition_test: ok ($(wc -l <"$work/metrics.txt") lines, promtool clean, gzip, SIGTERM)"
