#!/usr/bin/env bash
# The Prometheus files of deploy/prometheus: `promtool check rules` and `promtool check config`
# are clean, `promtool test rules` passes, and every alert has a severity, a summary and a
# description, and unit tests where it fires and where it does not.
# Usage: prometheus_rules_test.sh BUILD_DIR SOURCE_DIR   (needs promtool, python3 with PyYAML)
set -euo pipefail
src="$(cd "$2" && pwd)"
dir="$src/deploy/prometheus"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

command -v promtool >/dev/null || fail "promtool is not installed (Debian package prometheus)"
python3 -c 'import yaml' 2>/dev/null || fail "python3 with PyYAML is needed (Debian package python3-yaml)"

run() {  # name, command...: the command must succeed and print no warning
  local name="$1"; shift
  if ! "$@" >"$work/out" 2>&1; then cat "$work/out" >&2; fail "$name"; fi
  if grep -qiE 'warn|error' "$work/out"; then cat "$work/out" >&2; fail "$name printed warnings"; fi
}
run "promtool check rules" promtool check rules "$dir/alerts.yml"
run "promtool check config" promtool check config "$dir/scrape.yml"
run "promtool test rules" promtool test rules "$dir/alerts_test.yml"

python3 - "$dir/alerts.yml" "$dir/alerts_test.yml" "$dir/scrape.yml" <<'PY'
import sys, yaml
rules_file, tests_file, scrape_file = sys.argv[1:4]
problems = []
alerts = {}
for group in yaml.safe_load(open(rules_file))["groups"]:
    for r in group["rules"]:
        if "alert" not in r:
            continue
        name = r["alert"]
        alerts[name] = r
        if r.get("labels", {}).get("severity") not in ("critical", "warning"):
            problems.append(f"{name}: severity label must be critical or warning")
        for a in ("summary", "description", "runbook"):
            if not r.get("annotations", {}).get(a, "").strip():
                problems.append(f"{name}: no {a} annotation")

expected = {"HotdataConnectionUnhealthy", "HotdataHealthChecksFailing", "HotdataChecksStale",
            "HotdataMonitorDown", "HotdataMonitorReloadFailed", "HotdataPurgesPausedForOutage",
            "HotdataPurgeBudgetExhausted", "HotdataPurgesFailing", "HotdataMonitorStateNotSaved"}
for name in sorted(expected - alerts.keys()):
    problems.append(f"alert {name} is missing from {rules_file}")

fires, quiet = set(), set()
for case in yaml.safe_load(open(tests_file))["tests"]:
    for t in case.get("alert_rule_test", []):
        (fires if t.get("exp_alerts") else quiet).add(t["alertname"])
for name in sorted(alerts):
    if name not in fires:
        problems.append(f"{name}: no unit test where it fires")
    if name not in quiet:
        problems.append(f"{name}: no unit test where it does not fire (near miss)")

jobs = [j["job_name"] for j in yaml.safe_load(open(scrape_file))["scrape_configs"]]
if "hotdata-monitor" not in jobs:
    problems.append(f'{scrape_file}: no scrape job "hotdata-monitor" (HotdataMonitorDown expects it)')

for p in problems:
    print("FAIL:", p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY

echo "prometheus_rules_test: ok (check rules, check config, test rules; $(grep -c '^      - alert:' "$dir/alerts.yml") alerts)"
