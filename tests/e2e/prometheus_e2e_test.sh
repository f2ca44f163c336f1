#!/usr/bin/env bash
# End to end with a real Prometheus: hotdata-simulator, the daemon, and Debian's `prometheus`
# scraping the daemon every second with deploy/prometheus/alerts.yml loaded (its scrape job taken
# from deploy/prometheus/scrape.yml). Then every PromQL expression that deploy/ ships is run
# against Prometheus' HTTP API:
#   - the dashboard's panel queries (targets[].expr) must parse and return data (exceptions are
#     listed below, each with its reason), twice: with every variable at All (.*), and with each
#     variable set to one real value that its label_values query found (connection prod-pg-01,
#     which is purged and has watched tables, and the rest chained to it, regex-escaped as Grafana
#     does); its variable queries (label_values) must find values;
#   - the dashboard's annotation queries, the Prometheus alert rules (expr) and the Grafana alert
#     rules (data[].model.expr) must parse and evaluate; alert conditions may legitimately be
#     empty in a short healthy run. Prometheus must also report every loaded rule healthy.
# Policy metrics (hotdata_policy_*, hotdata_connection_last_purge_timestamp_seconds) must return
# data only when the daemon exports hotdata_policy_actions_total; otherwise a note is printed.
# Usage: prometheus_e2e_test.sh BUILD_DIR SOURCE_DIR   (needs prometheus, python3 with PyYAML, curl)
set -euo pipefail
build="$(cd "$1" && pwd)"
src="$(cd "$2" && pwd)"
work="$(mktemp -d)"
pids=()
cleanup() {
  local p i
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for ((i = 0; i < 50; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  for f in daemon.log prometheus.log sim.log; do
    [[ -s "$work/$f" ]] && { echo "--- $f (last 30 lines):" >&2; tail -n 30 "$work/$f" >&2; }
  done
  exit 1
}
wait_for() {  # seconds, command...
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do ((SECONDS < deadline)) || return 1; sleep 0.1; done
}

command -v prometheus >/dev/null || fail "prometheus is not installed (Debian package prometheus)"
command -v curl >/dev/null || fail "curl is not installed"
python3 -c 'import yaml' 2>/dev/null || fail "python3 with PyYAML is needed (Debian package python3-yaml)"
running() {  # pid: alive and not a zombie (kill -0 succeeds on an exited, unreaped child)
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" && [[ "${stat##*) }" != Z* ]]
}
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --- the simulated workspace and the daemon -----------------------------------------------------
token="e2e-token-$RANDOM$RANDOM"
printf '%s\n' "$token" >"$work/token"
"$build/hotdata-simulator" --connections 12 --token "$token" --url-file "$work/url" \
  >"$work/sim.log" 2>&1 &
pids+=($!)
wait_for 10 test -s "$work/url" || fail "simulator did not start"

# Policies that act within seconds, so that the policy panels have data once the engine is wired:
# purges that succeed (then hit the budget of 4 per hour, and the cooldown), purges that fail
# (the managed catalog answers 400, then is marked permanent_error), and dry runs. The spent
# budget and the failed purges also fire HotdataPurgeBudgetExhausted and HotdataPurgesFailing
# (no `for:`) within seconds: the data of the dashboard's firing-alert panels (ALERTS).
cat >"$work/config.yaml" <<YAML
api:
  base_url: $(cat "$work/url")
  token_file: $work/token
  timeout: 5s
scheduler: { interval: 1s, discovery_interval: 5s, concurrency: 4 }
server: { listen: "127.0.0.1:0" }
tables:   # the table freshness panels
  - { connection: prod-pg-01, schema: public, table: orders }
  - { connection: prod-pg-01, schema: public, table: customers }
state_file: $work/state.json
safety: { max_purges_per_hour: 4 }
policies:
  - name: e2e-purge
    match: { name: ["prod-pg-*"] }
    when: { event: schedule, every: 1s }
    action: { purge: connection }
    cooldown: 2s
  - name: e2e-managed
    match: { name: ["hotdata-managed-*"] }
    when: { event: schedule, every: 1s }
    action: { purge: connection }
    cooldown: 1s
  - name: e2e-dry-run
    match: { name: ["prod-mysql-*"] }
    when: { event: schedule, every: 1s }
    action: { purge: connection }
    cooldown: 1s
    dry_run: true
YAML
"$build/hotdata-monitor" --config "$work/config.yaml" >"$work/daemon.log" 2>&1 &
pids+=($!)
wait_for 10 grep -q "listening on" "$work/daemon.log" || fail "daemon did not start"
port="$(sed -n 's/.*(port \([0-9]*\)[,)].*/\1/p' "$work/daemon.log" | head -1)"
[[ -n "$port" ]] || fail "no port in the daemon's log"
wait_for 10 curl -sf -m 5 "http://127.0.0.1:$port/readyz" || fail "/readyz never turned 200"

# --- Prometheus ---------------------------------------------------------------------------------
# The job of deploy/prometheus/scrape.yml, scraping every second, and deploy's alert rules.
python3 - "$src/deploy/prometheus/scrape.yml" "$src/deploy/prometheus/alerts.yml" \
  "127.0.0.1:$port" >"$work/prometheus.yml" <<'PY'
import sys, yaml
scrape, rules, target = sys.argv[1:4]
cfg = yaml.safe_load(open(scrape))
job = next(j for j in cfg["scrape_configs"] if j["job_name"] == "hotdata-monitor")
job.update(scrape_interval="1s", scrape_timeout="1s")
# The target labels of the shipped file (its workspace label feeds the dashboard's variable).
labels = job["static_configs"][0].get("labels", {})
if "workspace" not in labels:
    sys.exit("deploy/prometheus/scrape.yml: the target has no workspace label")
job["static_configs"] = [{"targets": [target], "labels": labels}]
out = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
       "rule_files": [rules], "scrape_configs": [job]}
print(yaml.safe_dump(out, sort_keys=False))
PY
promtool check config "$work/prometheus.yml" >"$work/promtool.out" 2>&1 \
  || { cat "$work/promtool.out" >&2; fail "promtool check config of the generated prometheus.yml"; }

prom_up=0
for attempt in 1 2 3; do  # a free port picked here may be taken by the time Prometheus binds it
  pport="$(free_port)"
  prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
    --web.listen-address="127.0.0.1:$pport" --log.level=warn >"$work/prometheus.log" 2>&1 &
  ppid=$!
  pids+=("$ppid")
  deadline=$((SECONDS + 20))
  while running "$ppid" && ((SECONDS < deadline)); do
    if curl -sf -m 5 "http://127.0.0.1:$pport/-/ready" >/dev/null 2>&1; then prom_up=1; break; fi
    sleep 0.1
  done
  ((prom_up)) && break
  kill "$ppid" 2>/dev/null || true
  echo "prometheus did not become ready on port $pport (attempt $attempt)" >&2
done
((prom_up)) || fail "prometheus did not start"
prom="http://127.0.0.1:$pport"

up_is_1() {
  curl -sf -m 5 "$prom/api/v1/query" --data-urlencode 'query=up{job="hotdata-monitor"} == 1' \
    | python3 -c 'import json, sys; sys.exit(0 if json.load(sys.stdin)["data"]["result"] else 1)'
}
wait_for 15 up_is_1 || fail "Prometheus never saw up{job=\"hotdata-monitor\"} == 1"

policy=0
curl -sf -m 5 "http://127.0.0.1:$port/metrics" >"$work/metrics.txt" || fail "no /metrics"
grep -q '^hotdata_policy_actions_total' "$work/metrics.txt" && policy=1

# --- every expression ---------------------------------------------------------------------------
python3 - "$prom" "$policy" "$src" <<'PY' || fail "PromQL expressions of deploy/ (see above)"
import json, math, re, sys, time, urllib.parse, urllib.request, yaml

prom, policy, src = sys.argv[1], sys.argv[2] == "1", sys.argv[3]
DASHBOARD = f"{src}/deploy/grafana/dashboards/hotdata-monitor.json"
PROM_RULES = f"{src}/deploy/prometheus/alerts.yml"
GRAFANA_RULES = f"{src}/deploy/grafana/provisioning/alerting/hotdata-monitor.yml"
DEADLINE = time.monotonic() + 25   # for data to appear (rates need a few scrapes, purges a few s)

# Dashboard panel queries that may legitimately return nothing in a short healthy run.
EXEMPT = {
    ("Failed requests by operation and code", "A"):
        "only requests without a 2xx answer; a healthy run may have none",
}
# Grafana variables and macros, as Grafana would expand them (multi-value "All" is .*); the
# pass with real values replaces the multi-value ones.
VARIABLES = {"job": "hotdata-monitor", "workspace": ".*", "instance": ".*", "source_type": ".*",
             "connection": ".*", "top": "10"}
MULTI = ("workspace", "instance", "source_type", "connection")
CONNECTION = "prod-pg-01"   # the connection of the pass with real values (purged, tables watched)
MACROS = {"__rate_interval": "1m", "__interval": "15s", "__range": "1h", "__range_s": "3600",
          "__interval_ms": "15000"}
POLICY_RE = re.compile(r"hotdata_policy_|hotdata_connection_last_purge_timestamp_seconds")

def expand(expr, values=VARIABLES):
    def var(m):
        name = m.group(1) or m.group(2) or m.group(3) or m.group(4)
        if name in MACROS:
            return MACROS[name]
        if name in values:
            return values[name]
        raise SystemExit(f"FAIL: unknown variable ${name} in: {expr}")
    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(__\w+)|\$(\w+)", var, expr)

# (source, where, expression, must return data, reason when not)
queries = []
dash = json.load(open(DASHBOARD))
def panels(ps):
    for p in ps:
        yield p
        yield from panels(p.get("panels", []))
top = next(v for v in dash["templating"]["list"] if v["name"] == "top")
VARIABLES["top"] = top["current"]["value"]
for p in panels(dash["panels"]):
    for t in p.get("targets", []):
        if "expr" not in t:
            continue
        key = (p["title"], t.get("refId", "?"))
        where = f'panel "{p["title"]}" {t.get("refId", "?")}'
        if key in EXEMPT:
            queries.append(("dashboard", where, t["expr"], False, EXEMPT[key]))
        elif POLICY_RE.search(t["expr"]) and not policy:
            queries.append(("dashboard", where, t["expr"], False, "policy metric, not exported yet"))
        else:
            queries.append(("dashboard", where, t["expr"], True, ""))
for a in dash.get("annotations", {}).get("list", []):
    if a.get("expr"):
        queries.append(("dashboard", f'annotation "{a["name"]}"', a["expr"], False, "event markers"))
for g in yaml.safe_load(open(PROM_RULES))["groups"]:
    for r in g["rules"]:
        queries.append(("prometheus rule", r.get("alert") or r.get("record"), r["expr"], False,
                        "alert condition"))
for g in yaml.safe_load(open(GRAFANA_RULES))["groups"]:
    for r in g["rules"]:
        for d in r["data"]:
            if d.get("datasourceUid") != "__expr__" and "expr" in d.get("model", {}):
                queries.append(("grafana rule", f'{r["title"]} {d["refId"]}', d["model"]["expr"],
                                False, "alert query"))
variables = []
for v in dash["templating"]["list"]:
    if v["type"] != "query":
        continue
    q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
    m = re.fullmatch(r"\s*label_values\((.*),\s*(\w+)\s*\)\s*", q, re.S)
    if not m:
        raise SystemExit(f"FAIL: variable {v['name']}: only label_values(expr, label) is handled: {q}")
    variables.append((v["name"], m.group(1), m.group(2)))

def query(expr):
    url = f"{prom}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            body = json.load(r)
    except urllib.error.HTTPError as e:
        body = json.load(e)
    if body.get("status") != "success":
        return None, f'{body.get("errorType")}: {body.get("error")}'
    data = body["data"]
    if data["resultType"] in ("scalar", "string"):
        return [data["result"]], None
    return data["result"], None

def has_data(result, label=None):
    for s in result:
        if isinstance(s, dict):
            if label and label not in s.get("metric", {}):
                continue
            v = s.get("value", [0, "NaN"])[1]
        else:
            v = s[1]
        if not math.isnan(float(v)):
            return True
    return False

def label_values(expr, label, values):
    res, _ = query(expand(expr, values))
    return sorted({s["metric"][label] for s in res or [] if label in s.get("metric", {})})

def regex_escape(value):  # as Grafana escapes a multi-value variable for a Prometheus regex
    return re.sub(r'([\\^$*+?.()|{}\[\]])', r'\\\\\1', value)

def real_values():
    """Each variable set to one value its label_values query finds, chained as in Grafana."""
    values, missing = dict(VARIABLES), []
    for name, expr, label in variables:
        found = label_values(expr, label, values)
        if name == "connection":
            pick = CONNECTION if CONNECTION in found else None
        elif name == "source_type":  # the source type of CONNECTION
            info = label_values(f'hotdata_connection_info{{connection="{CONNECTION}"}}', label, values)
            pick = info[0] if info and info[0] in found else None
        else:
            pick = found[0] if found else None
        if pick is None:
            missing.append(f"variable ${name}: no usable value among {found}")
            break
        values[name] = regex_escape(pick) if name in MULTI else pick
    return values, missing

while True:  # until everything that must return data does, or the deadline
    results, pending, failures = {}, [], []
    real, missing = real_values()
    passes = [("All", VARIABLES), ("real values", real)]
    for i, (source, where, expr, must, why) in enumerate(queries):
        for pname, values in passes if source == "dashboard" else passes[:1]:
            res, err = query(expand(expr, values))
            if pname == "All":
                results[i] = (res, err)
            if err:  # a parse or evaluation error does not go away: report it, wait for the rest
                failures.append(f"{source} {where} ({pname}): {err}\n    {' '.join(expand(expr, values).split())}")
            elif must and not has_data(res):
                pending.append((i, pname, values))
    var_pending = [v for v in variables if not has_data(query(expand(v[1]))[0] or [], v[2])]
    # Rules loaded into Prometheus must evaluate without error ("unknown": not evaluated yet).
    with urllib.request.urlopen(f"{prom}/api/v1/rules", timeout=10) as r:
        rules = [r for g in json.load(r)["data"]["groups"] for r in g["rules"]]
    rules_pending = [r for r in rules if r.get("health") == "unknown"]
    if not rules or not (pending or var_pending or rules_pending or missing) or time.monotonic() > DEADLINE:
        break
    time.sleep(1)
if not rules:
    failures.append("Prometheus loaded no rule from alerts.yml")
for r in rules:
    if r.get("health") != "ok":
        failures.append(f'rule {r["name"]} in Prometheus: health {r.get("health")}: {r.get("lastError")}')

def oneline(expr, values=VARIABLES):
    return " ".join(expand(expr, values).split())
empty = []
for i, (source, where, expr, must, why) in enumerate(queries):
    res, err = results[i]
    state = "ERROR" if err else "data" if has_data(res) else "NO DATA" if must else f"no data: {why}"
    print(f"  {source} {where}: {state}")
    if not err and state != "data" and source == "dashboard":
        empty.append((where, expr, why if not must else "MUST HAVE DATA"))
for name, expr, label in variables:
    print(f"  dashboard variable ${name}: {'NO VALUES' if (name, expr, label) in var_pending else 'values'}")

if not policy:
    print("NOTE: the daemon does not export hotdata_policy_actions_total yet: the policy panels "
          "(hotdata_policy_*, hotdata_connection_last_purge_timestamp_seconds) were only checked "
          "to parse, not to return data.")
if empty:
    print(f"\nDashboard queries that returned no data ({len(empty)}):")
    for where, expr, why in empty:
        print(f"  {where} [{why}]\n      {oneline(expr)}")
for i, pname, values in pending:
    source, where, expr, _, _ = queries[i]
    failures.append(f"{source} {where} ({pname}): returned no data\n    {oneline(expr, values)}")
failures += missing
print("  real values: " + ", ".join(f"{k}={real.get(k)}" for k in MULTI))
for name, expr, label in var_pending:
    failures.append(f"variable ${name}: label_values({expand(expr)}, {label}) found no value")
if failures:
    print("", *("FAIL: " + f for f in failures), sep="\n", file=sys.stderr)
    sys.exit(1)
print(f"\n{len(queries)} expressions parsed, {sum(1 for q in queries if q[3])} had to return data "
      f"and did (dashboard ones with All and with real values); {len(variables)} variables found values; {len(rules)} rules healthy in Prometheus")
PY
echo "prometheus_e2e_test: ok"
