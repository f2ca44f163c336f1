#!/usr/bin/env bash
# The Prometheus files of deploy/prometheus: `promtool check rules` and `promtool check config`
# are clean, `promtool test rules` passes, and every alert has a severity, a summary, a
# description, a runbook and a runbook_url, and unit tests where it fires and where it does not.
# Every runbook_url is RUNBOOK_BASE#<alert name in lower case>, with the one RUNBOOK_BASE that the
# header of alerts.yml declares (ending in docs/runbooks.md), and docs/runbooks.md has a heading
# with that anchor (as GitHub makes anchors of headings).
# (deploy/alertmanager is tests/e2e/alertmanager_test.sh's.)
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

python3 - "$dir/alerts.yml" "$dir/alerts_test.yml" "$dir/scrape.yml" "$src/docs/runbooks.md" <<'PY'
import re, sys, yaml
rules_file, tests_file, scrape_file, runbooks_file = sys.argv[1:5]
problems = []

# The runbook base, declared once in the header of alerts.yml.
header = open(rules_file).read().split("\ngroups:", 1)[0]
bases = re.findall(r"^#\s+(https?://\S+/docs/runbooks\.md)\s*$", header, re.M)
if len(set(bases)) != 1:
    problems.append(f"{rules_file}: the header must declare one runbook base (a line `#   https://.../docs/runbooks.md`), found {bases}")
base = bases[0] if bases else None

# Anchors of docs/runbooks.md as GitHub makes them: lower case, punctuation but - and _ dropped,
# spaces to -, a repeated anchor gets -1, -2...
anchors, seen = set(), {}
try:
    text = open(runbooks_file).read()
except OSError as e:
    problems.append(f"cannot read {runbooks_file}: {e}")
    text = ""
in_code = False
for line in text.splitlines():
    if line.startswith("```"):
        in_code = not in_code
    m = None if in_code else re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
    if m:
        slug = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        anchors.add(slug if n == 0 else f"{slug}-{n}")
alerts = {}
for group in yaml.safe_load(open(rules_file))["groups"]:
    for r in group["rules"]:
        if "alert" not in r:
            continue
        name = r["alert"]
        alerts[name] = r
        if r.get("labels", {}).get("severity") not in ("critical", "warning"):
            problems.append(f"{name}: severity label must be critical or warning")
        for a in ("summary", "description", "runbook", "runbook_url"):
            if not r.get("annotations", {}).get(a, "").strip():
                problems.append(f"{name}: no {a} annotation")
        url = r.get("annotations", {}).get("runbook_url", "")
        if url and base and url != f"{base}#{name.lower()}":
            problems.append(f"{name}: runbook_url {url!r} is not {base}#{name.lower()}")
        anchor = url.partition("#")[2]
        if url and anchor not in anchors:
            problems.append(f"{name}: runbook_url anchor #{anchor} is no heading of {runbooks_file}")

expected = {"HotdataConnectionUnhealthy", "HotdataHealthChecksFailing", "HotdataFleetOutage", "HotdataChecksStale",
            "HotdataMonitorDown", "HotdataMonitorReloadFailed", "HotdataPurgesPausedForOutage",
            "HotdataPurgeBudgetExhausted", "HotdataPurgesFailing", "HotdataMonitorStateNotSaved",
            "HotdataDiscoveryStale", "HotdataNoConnectionsMonitored", "HotdataMonitorRestartLoop",
            "HotdataTableStale", "HotdataPurgesHeldForStateLoss"}
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

echo "prometheus_rules_test: ok (check rules, check config, test rules, runbook anchors; $(grep -c '^      - alert:' "$dir/alerts.yml") alerts)"
