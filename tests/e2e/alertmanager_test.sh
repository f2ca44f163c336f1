#!/usr/bin/env bash
# deploy/alertmanager/alertmanager.yml against the shipped rules (deploy/prometheus/alerts.yml):
#  1. `amtool check-config` is clean.
#  2. Routes: every alert of alerts.yml, with its labels (alertname and the rule's labels, plus the
#     labels its promtool unit tests prove it carries: job, instance, connection...), reaches the
#     receiver of its severity (`amtool config routes test --verify.receivers`): critical
#     hotdata-pager, warning hotdata-tickets; the route groups by alert name, never by connection.
#  3. Inhibition, statically: every inhibit rule's source_matchers and target_matchers name alerts
#     and labels that exist in alerts.yml; the alerts on both sides carry every label of `equal:`
#     (in every firing case of alerts_test.yml); the critical HotdataFleetOutage inhibits every
#     per-connection warning and HotdataHealthChecksFailing.
#  4. Inhibition and grouping, live (amtool has no offline test of either): a real Alertmanager
#     (the prometheus-alertmanager binary) on 127.0.0.1 with the shipped file gets an API-wide
#     outage seen by two replicas (mon-a, mon-b: HotdataFleetOutage and the warnings of 5
#     connections each) and the same warnings from a monitor without the outage (mon-c). The
#     per-connection warnings and HotdataHealthChecksFailing of mon-a and mon-b are inhibited (not
#     their monitor-level HotdataChecksStale), none of mon-c's are, the pager gets one
#     notification group and the warnings one group per alert name.
# Usage: alertmanager_test.sh BUILD_DIR SOURCE_DIR
#   (needs amtool and prometheus-alertmanager: Debian package prometheus-alertmanager; promtool:
#   package prometheus; python3 with PyYAML)
set -euo pipefail
src="$(cd "$2" && pwd)"
am_config="$src/deploy/alertmanager/alertmanager.yml"
rules="$src/deploy/prometheus/alerts.yml"
rule_tests="$src/deploy/prometheus/alerts_test.yml"
work="$(mktemp -d)"
am_pid=""
cleanup() {
  if [[ -n "$am_pid" ]]; then kill "$am_pid" 2>/dev/null || true; wait "$am_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

command -v amtool >/dev/null || fail "amtool is not installed (Debian package prometheus-alertmanager)"
am_bin="$(command -v prometheus-alertmanager || command -v alertmanager || true)"
[[ -n "$am_bin" ]] || fail "alertmanager is not installed (Debian package prometheus-alertmanager)"
command -v promtool >/dev/null || fail "promtool is not installed (Debian package prometheus)"
python3 -c 'import yaml' 2>/dev/null || fail "python3 with PyYAML is needed (Debian package python3-yaml)"

# 1. The configuration.
if ! amtool check-config "$am_config" >"$work/out" 2>&1; then cat "$work/out" >&2; fail "amtool check-config"; fi
grep -qiE 'warn|error' "$work/out" && { cat "$work/out" >&2; fail "amtool check-config printed warnings"; }

# The labels the rules give their alerts come from their unit tests' exp_labels: make sure those
# tests pass (prometheus_rules_test.sh runs them too).
if ! promtool test rules "$rule_tests" >"$work/out" 2>&1; then cat "$work/out" >&2; fail "promtool test rules"; fi

# 2 and 3: python prints the label sets to route (expected receiver, then labels) on stdout.
python3 - "$rules" "$rule_tests" "$am_config" >"$work/routes" <<'PY'
import json, re, sys, yaml
rules_file, tests_file, am_file = sys.argv[1:4]
problems = []

alerts = {}
for g in yaml.safe_load(open(rules_file))["groups"]:
    for r in g["rules"]:
        if "alert" in r:
            alerts[r["alert"]] = dict(r.get("labels", {}))

# Label sets each alert fires with, as its promtool tests expect them (every firing case).
fired = {name: [] for name in alerts}
for case in yaml.safe_load(open(tests_file))["tests"]:
    for t in case.get("alert_rule_test", []):
        for e in t.get("exp_alerts") or []:
            labels = {"alertname": t["alertname"], **{k: str(v) for k, v in e.get("exp_labels", {}).items()}}
            if labels not in fired.setdefault(t["alertname"], []):
                fired[t["alertname"]].append(labels)
for name in alerts:
    if not fired[name]:
        problems.append(f"{name}: no firing case in {tests_file}, so its labels are unknown")
known_labels = {"alertname"} | {k for ls in fired.values() for s in ls for k in s}

def parse_matcher(text):
    m = re.fullmatch(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*', text)
    if not m:
        raise ValueError(f"cannot parse matcher {text!r}")
    name, op, value = m.groups()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = bytes(value[1:-1], "utf-8").decode("unicode_escape")
    return name, op, value

def matches(matchers, labels):
    for name, op, value in matchers:
        v = labels.get(name, "")
        ok = {"=": v == value, "!=": v != value,
              "=~": re.fullmatch(value, v) is not None, "!~": re.fullmatch(value, v) is None}[op]
        if not ok:
            return False
    return True

def route_matchers(route):
    ms = [parse_matcher(m) for m in route.get("matchers", [])]
    for k, v in (route.get("match") or {}).items():
        ms.append((k, "=", str(v)))
    for k, v in (route.get("match_re") or {}).items():
        ms.append((k, "=~", str(v)))
    return ms

am = yaml.safe_load(open(am_file))

# The route an alert ends in (first matching child, depth first, as Alertmanager without
# `continue`), with the group_by it inherits.
def leaf(route, labels, group_by):
    group_by = route.get("group_by", group_by)
    for child in route.get("routes", []):
        if matches(route_matchers(child), labels):
            return leaf(child, labels, group_by)
    return route, group_by

receiver_of = {"critical": "hotdata-pager", "warning": "hotdata-tickets"}
for name, static in alerts.items():
    sev = static.get("severity")
    if sev not in receiver_of:
        problems.append(f"{name}: severity {sev!r} has no expected receiver")
        continue
    # The rule's own labels, and each label set its tests prove.
    label_sets = [{"alertname": name, **{k: str(v) for k, v in static.items()}}] + fired[name]
    for labels in label_sets:
        print(receiver_of[sev], " ".join(f"{k}={json.dumps(v)}" for k, v in sorted(labels.items())))
        _, group_by = leaf(am["route"], labels, [])
        if "alertname" not in group_by or "..." in group_by:
            problems.append(f"{name}: its route groups by {group_by}, not by alertname")
        per_connection = {"connection", "connection_id"} & set(group_by)
        if per_connection:
            problems.append(f"{name}: its route groups by {sorted(per_connection)}: one notification per connection")
print('default alertname="SomethingElse" severity="critical"')  # not ours: the catch-all

# 3. Inhibit rules, statically.
rules_am = am.get("inhibit_rules") or []
if not rules_am:
    problems.append("alertmanager.yml has no inhibit_rules")
inhibited_by_fleet = set()
for i, rule in enumerate(rules_am):
    where = f"inhibit_rules[{i}]"
    if "source_match" in rule or "target_match" in rule or "source_match_re" in rule or "target_match_re" in rule:
        problems.append(f"{where}: use source_matchers/target_matchers (the *_match forms are deprecated)")
    sides = {}
    for side in ("source_matchers", "target_matchers"):
        try:
            ms = [parse_matcher(m) for m in rule.get(side, [])]
        except ValueError as e:
            problems.append(f"{where}.{side}: {e}")
            continue
        if not ms:
            problems.append(f"{where}: no {side}")
        for lname, op, value in ms:
            if lname not in known_labels:
                problems.append(f"{where}.{side}: label {lname!r} is on no alert of alerts.yml")
            if lname == "alertname":
                names = [value] if op in ("=", "!=") else [a for a in value.split("|") if re.fullmatch(r"\w+", a)]
                if op in ("=~", "!~") and len(names) != len(value.split("|")):
                    problems.append(f"{where}.{side}: write alertname regexes as A|B|C of alert names")
                for a in names:
                    if a not in alerts:
                        problems.append(f"{where}.{side}: alert {a!r} is not in alerts.yml")
            elif op == "=" and not any(s.get(lname) == value for ls in fired.values() for s in ls):
                problems.append(f"{where}.{side}: no alert of alerts.yml has {lname}={value!r}")
        sides[side] = {a for a in alerts if any(matches(ms, s) for s in fired[a])}
        if not sides[side]:
            problems.append(f"{where}.{side} matches no alert of alerts.yml")
    src_alerts, dst_alerts = sides.get("source_matchers", set()), sides.get("target_matchers", set())
    if src_alerts & dst_alerts:
        problems.append(f"{where}: {sorted(src_alerts & dst_alerts)} on both sides")
    equal = rule.get("equal") or []
    if not equal:
        problems.append(f"{where}: no `equal:` labels: it would inhibit across every monitor")
    for a in sorted(src_alerts | dst_alerts):
        for s in fired[a]:
            missing = [l for l in equal if l not in s]
            if missing:
                problems.append(f"{where}: {a} fires without {missing} (equal: {equal}): {s}")
    if "HotdataFleetOutage" in src_alerts:
        inhibited_by_fleet |= dst_alerts
    print(f"inhibit_rules[{i}]: {sorted(src_alerts)} inhibit {sorted(dst_alerts)} on {equal}", file=sys.stderr)

if alerts.get("HotdataFleetOutage", {}).get("severity") != "critical":
    problems.append("HotdataFleetOutage is missing from alerts.yml or not critical")
should = {a for a in alerts if alerts[a].get("severity") == "warning"
          and any("connection_id" in s for s in fired[a])} | {"HotdataHealthChecksFailing"}
for a in sorted(should - inhibited_by_fleet):
    problems.append(f"{a}: HotdataFleetOutage must inhibit it (a per-connection warning, or HotdataHealthChecksFailing)")
for a in sorted(should):
    if alerts.get(a, {}).get("severity") != "warning":
        problems.append(f"{a}: a per-connection alert must be a warning, not {alerts.get(a, {}).get('severity')}")

for p in problems:
    print("FAIL:", p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY

# 2. Routes through amtool itself.
routed=0
while read -r receiver labels; do
  # shellcheck disable=SC2086  # labels: one word per label, name="value", values without spaces
  if ! got="$(amtool config routes test --config.file="$am_config" --verify.receivers="$receiver" $labels 2>"$work/err")"; then
    cat "$work/err" >&2
    fail "routes: {$labels} went to \"$got\", expected $receiver"
  fi
  [[ "$got" == "$receiver" ]] || fail "routes: {$labels} went to \"$got\", expected $receiver only"
  routed=$((routed + 1))
done <"$work/routes"

# 4. A real Alertmanager.
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$am_bin" --config.file="$am_config" --storage.path="$work/data" \
  --web.listen-address="127.0.0.1:$port" --cluster.listen-address= --log.level=warn \
  >"$work/am.log" 2>&1 &
am_pid=$!
python3 - "$port" "$rule_tests" <<'PY' || { echo "--- alertmanager log" >&2; cat "$work/am.log" >&2; fail "live inhibition and grouping"; }
import json, sys, time, urllib.request, yaml
port, tests_file = sys.argv[1:3]
base = f"http://127.0.0.1:{port}"
deadline = time.time() + 20
while True:
    try:
        urllib.request.urlopen(f"{base}/-/ready", timeout=1).read()
        break
    except Exception:
        if time.time() > deadline:
            sys.exit("alertmanager did not become ready")
        time.sleep(0.2)

# The firing label sets of each alert, from its promtool tests (one per set of label names:
# HotdataChecksStale fires per connection and per monitor).
samples = {}
for case in yaml.safe_load(open(tests_file))["tests"]:
    for t in case.get("alert_rule_test", []):
        for e in t.get("exp_alerts") or []:
            labels = {"alertname": t["alertname"], **{k: str(v) for k, v in e["exp_labels"].items()}}
            kinds = samples.setdefault(t["alertname"], {})
            kinds.setdefault(frozenset(labels), labels)
# What an API-wide outage brings along. The policy under test: on a monitor where
# HotdataFleetOutage fires, every per-connection warning and HotdataHealthChecksFailing is
# inhibited; the monitor-level HotdataChecksStale (a stuck monitor) is not.
along = ["HotdataConnectionUnhealthy", "HotdataHealthChecksFailing", "HotdataChecksStale"]
def inhibited(labels):
    return (labels["instance"] in ("mon-a:9977", "mon-b:9977") and labels["severity"] == "warning"
            and ("connection_id" in labels or labels["alertname"] == "HotdataHealthChecksFailing"))
posted = []
for instance in ("mon-a:9977", "mon-b:9977", "mon-c:9977"):
    names = along + (["HotdataFleetOutage"] if instance != "mon-c:9977" else [])
    for name in names:
        for sample in samples[name].values():
            for conn in (range(1, 6) if "connection_id" in sample else [None]):
                # Every target carries its workspace label (deploy/prometheus/scrape.yml), which
                # Alertmanager groups by; the samples differ in whether their test gave one.
                labels = dict(sample, instance=instance, workspace="eu")
                if conn is not None:
                    labels.update(connection_id=f"conn_{conn:04d}", connection=f"c{conn}")
                if labels not in posted:
                    posted.append(labels)
req = urllib.request.Request(f"{base}/api/v2/alerts", data=json.dumps([{"labels": l} for l in posted]).encode(),
                             headers={"Content-Type": "application/json"}, method="POST")
urllib.request.urlopen(req, timeout=5).read()

def key(labels):
    return tuple(sorted(labels.items()))
problems = []
deadline = time.time() + 15
while True:
    got = {key(a["labels"]): a for a in json.load(urllib.request.urlopen(f"{base}/api/v2/alerts", timeout=5))}
    problems = []
    for labels in posted:
        a = got.get(key(labels))
        if a is None:
            problems.append(f"not in Alertmanager: {labels}")
            continue
        want = "suppressed" if inhibited(labels) else "active"
        state = a["status"]["state"]
        if state != want or (want == "suppressed" and not a["status"]["inhibitedBy"]):
            problems.append(f"{want} expected, got {state} (inhibitedBy {a['status']['inhibitedBy']}): {labels}")
    if not problems or time.time() > deadline:
        break
    time.sleep(0.3)

groups = json.load(urllib.request.urlopen(f"{base}/api/v2/alerts/groups", timeout=5))
pager = [g for g in groups if g["receiver"]["name"] == "hotdata-pager"]
if len(pager) != 1 or len(pager[0]["alerts"]) != 2:
    problems.append(f"the outage should reach the pager as one group of both replicas' HotdataFleetOutage, got "
                    f"{[[a['labels'] for a in g['alerts']] for g in pager]}")
tickets = [g for g in groups if g["receiver"]["name"] == "hotdata-tickets"]
names = sorted(g["labels"].get("alertname", "") for g in tickets)
if names != sorted(along):
    problems.append(f"the warnings should make one group per alert name, got groups {[g['labels'] for g in tickets]}")
for p in problems:
    print("FAIL:", p, file=sys.stderr)
if problems:
    sys.exit(1)
suppressed = sum(1 for a in got.values() if a["status"]["state"] == "suppressed")
print(f"live: {len(posted)} alerts, {suppressed} inhibited, {len(pager)} pager group, {len(tickets)} ticket groups")
PY

echo "alertmanager_test: ok (check-config, $routed label sets routed, inhibit rules match alerts.yml, live inhibition)"
