#!/usr/bin/env bash
# Installs what is missing, builds, and runs hotdata-monitor against the project's simulated
# workspace. The status page at http://127.0.0.1:9977/, metrics at /metrics, status JSON at
# /api/v1/status. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"${JOBS:-2}" --target hotdata-monitor hotdata-simulator

demo_dir="build/demo"
mkdir -p "$demo_dir"
rm -f "$demo_dir/url"
export HOTDATA_API_TOKEN="demo-token-not-a-secret"
build/hotdata-simulator --connections 12 --token "$HOTDATA_API_TOKEN" \
  --url-file "$demo_dir/url" >"$demo_dir/simulator.log" 2>&1 &
sim_pid=$!
trap 'kill $sim_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do [[ -s "$demo_dir/url" ]] && break; sleep 0.1; done
[[ -s "$demo_dir/url" ]] || { echo "the simulator did not start; see $demo_dir/simulator.log" >&2; exit 1; }

sed -e "s|@BASE_URL@|$(cat "$demo_dir/url")|" -e "s|@STATE_FILE@|$PWD/$demo_dir/state.json|" \
  config/demo.yaml >"$demo_dir/config.yaml"
cat <<MSG

  hotdata-monitor is starting against the simulated workspace at $(cat "$demo_dir/url").
  Status page, in a browser: http://127.0.0.1:9977/
  Metrics:  curl -s http://127.0.0.1:9977/metrics | grep ^hotdata_connection_healthy
  Status:   curl -s http://127.0.0.1:9977/api/v1/status
  Actions:  curl -s http://127.0.0.1:9977/api/v1/actions
  Ctrl-C stops the monitor and the simulator.

MSG
build/hotdata-monitor --config "$demo_dir/config.yaml" "$@"
