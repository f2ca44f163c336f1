#!/usr/bin/env bash
# Alert-driven purges end to end with the real tools (issue #15): hotdata-simulator (--static,
# toggled through --control-stdin), the daemon with basic auth on and one `event: alert` policy,
# Debian's `prometheus` scraping the daemon every second with a rule of this test's own, and
# Debian's `prometheus-alertmanager` whose configuration is the shipped
# deploy/alertmanager/hotdata-monitor-webhook.yml (amtool check-config first) with only the URL,
# the password file and the timings replaced. The chain under test:
#   conn_0001 unhealthy -> hotdata_connection_healthy 0 -> the rule fires -> Alertmanager POSTs
#   /api/v1/alerts (basic auth from password_file) -> the policy purges conn_0001.
# Asserted:
#   1. the fake API sees exactly one purge, of conn_0001's cache, and /api/v1/actions shows a
#      successful entry whose trigger names the alert (`alert NAME firing since ...: SUMMARY`);
#   2. 3 more notifications of the same alert (repeat_interval) purge nothing more;
#   3. healthy again: the resolved notification is counted
#      (hotdata_webhook_alerts_total{status="resolved"});
#   4. unhealthy again after the policy's cooldown: a new episode (new startsAt), exactly one more
#      purge (two in all), still two after 2 more repeats.
# No other purge source: the one policy; 1 connection of 12 unhealthy keeps the outage pause off.
# Usage: alert_webhook_test.sh BUILD_DIR SOURCE_DIR
#   (needs prometheus: Debian package prometheus; prometheus-alertmanager and amtool: package
#   prometheus-alertmanager; python3 with PyYAML; curl; libcrypt.so.1, for the bcrypt hash)
set -euo pipefail
build="$(cd "$1" && pwd)"
src="$(cd "$2" && pwd)"
snippet="$src/deploy/alertmanager/hotdata-monitor-webhook.yml"
work="$(mktemp -d)"
pids=()
cleanup() {
  local p i
  exec 3>&- 2>/dev/null || true  # the simulator's stdin
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for ((i = 0; i < 50; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
started=$SECONDS
user="e2e-admin"  # the monitor's basic auth user (Prometheus, Alertmanager and curl use it)
password="pw-$RANDOM$RANDOM"

fail() {
  echo "FAIL: $* (after $((SECONDS - started)) s)" >&2
  local f
  for f in daemon.log alertmanager.log prometheus.log sim.log; do
    [[ -s "$work/$f" ]] && { echo "--- $f (last 40 lines):" >&2; tail -n 40 "$work/$f" >&2; }
  done
  echo "--- purges seen by the fake API (purges.log):" >&2
  cat "$work/purges.log" >&2 2>/dev/null || true
  if [[ -n "${port:-}" ]]; then
    echo "--- GET /api/v1/actions:" >&2
    curl -s -m 5 -u "$user:$password" "http://127.0.0.1:$port/api/v1/actions" >&2 || true
    echo >&2
    echo "--- webhook metrics:" >&2
    curl -s -m 5 -u "$user:$password" "http://127.0.0.1:$port/metrics" | grep -E '^hotdata_(webhook|policy)_' >&2 || true
  fi
  if [[ -n "${prom:-}" ]]; then
    echo "--- Prometheus: alerts, and scrapes of the daemon (all, failed) in the last 10 minutes:" >&2
    curl -s -m 5 "$prom/api/v1/alerts" >&2 || true
    echo >&2
    local q
    for q in 'count_over_time(up{job="hotdata-monitor"}[10m])' \
      'count_over_time((up{job="hotdata-monitor"} == 0)[10m:1s])'; do
      curl -s -m 5 "$prom/api/v1/query" --data-urlencode "query=$q" >&2 || true
      echo >&2
    done
  fi
  if [[ -n "${am:-}" ]]; then
    echo "--- Alertmanager /api/v2/alerts:" >&2
    curl -s -m 5 "$am/api/v2/alerts" >&2 || true
    echo >&2
  fi
  exit 1
}
wait_for() {  # seconds, command...
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do ((SECONDS < deadline)) || return 1; sleep 0.2; done
}
running() {  # pid: alive and not a zombie (kill -0 succeeds on an exited, unreaped child)
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" && [[ "${stat##*) }" != Z* ]]
}
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Missing tools fail the test: they are dependencies of the test suite, not options.
command -v prometheus >/dev/null || fail "prometheus is not installed (Debian package prometheus)"
am_bin="$(command -v prometheus-alertmanager || command -v alertmanager || true)"
[[ -n "$am_bin" ]] || fail "alertmanager is not installed (Debian package prometheus-alertmanager)"
command -v amtool >/dev/null || fail "amtool is not installed (Debian package prometheus-alertmanager)"
command -v curl >/dev/null || fail "curl is not installed"
python3 -c 'import yaml' 2>/dev/null || fail "python3 with PyYAML is needed (Debian package python3-yaml)"
[[ -f "$snippet" ]] || fail "$snippet is missing"

# The shipped example first, as a user would check it.
amtool check-config "$snippet" >"$work/amtool.out" 2>&1 \
  || { cat "$work/amtool.out" >&2; fail "amtool check-config $snippet"; }

# --- credentials ---------------------------------------------------------------------------------
# The daemon's password file holds a bcrypt hash; Prometheus' and Alertmanager's hold the
# password. The hash comes from libxcrypt itself (libcrypt1 is essential on Debian 12 and 13;
# python3.13 has no `crypt` module and htpasswd is not installed by default). Cost 5: fast.
printf '%s' "$password" >"$work/password"
python3 - "$password" >"$work/password.bcrypt" <<'PY' || fail "could not make a bcrypt hash with libcrypt.so.1"
import ctypes, sys
lib = ctypes.CDLL("libcrypt.so.1")
lib.crypt_gensalt.restype = ctypes.c_char_p
lib.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
lib.crypt.restype = ctypes.c_char_p
lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
salt = lib.crypt_gensalt(b"$2b$", 5, None, 0)
h = lib.crypt(sys.argv[1].encode(), salt) if salt else None
if not h or not h.startswith(b"$2b$05$") or len(h) != 60:
    sys.exit(f"unexpected crypt result {h!r}")
sys.stdout.write(h.decode())
PY

# --- the simulated workspace ---------------------------------------------------------------------
# 12 connections, all healthy and unchanging (--static); conn_0001 is prod-pg-01 (postgres).
token="e2e-token-$RANDOM$RANDOM"
printf '%s\n' "$token" >"$work/token"
mkfifo "$work/sim.stdin"
"$build/hotdata-simulator" --static --control-stdin --connections 12 --token "$token" \
  --url-file "$work/url" --log-purges "$work/purges.log" <"$work/sim.stdin" >"$work/sim.log" 2>&1 &
pids+=($!)
exec 3>"$work/sim.stdin"  # held open for the whole test: EOF would end the control loop
wait_for 10 test -s "$work/url" || fail "simulator did not start"
touch "$work/purges.log"

applied=0
applied_at_least() { (($(grep -c "^applied " "$work/sim.log") >= $1)); }
sim() {  # "unhealthy|healthy ID": one command, waits for the simulator's "applied ID ..."
  echo "$1 $2" >&3
  applied=$((applied + 1))
  wait_for 10 applied_at_least "$applied" || fail "the simulator did not apply \"$1 $2\""
  echo "$(date -u +%T) simulator: $2 $1"
}

# --- the daemon ----------------------------------------------------------------------------------
cooldown_s=5
cat >"$work/config.yaml" <<YAML
api:
  base_url: $(cat "$work/url")
  token_file: $work/token
  timeout: 5s
scheduler: { interval: 1s, discovery_interval: 5s, concurrency: 4 }
server:
  listen: "127.0.0.1:0"
  basic_auth: { username: $user, password_file: $work/password.bcrypt }
state_file: $work/state.json
safety:
  max_purges_per_hour: 30
  # 1 unhealthy connection of 12 is far below the fraction: the outage pause stays off.
  pause_when_unhealthy_fraction_above: 0.5
  pause_min_connections: 3
policies:   # the only purge source
  - name: e2e-purge-on-alert
    match: { source_type: [postgres] }
    when: { event: alert, alertname: [HotdataConnectionUnhealthy], labels: { severity: warning } }
    action: { purge: connection }
    cooldown: ${cooldown_s}s
YAML
"$build/hotdata-monitor" --config.file="$work/config.yaml" >"$work/daemon.log" 2>&1 &
dpid=$!
pids+=("$dpid")
daemon_up_or_gone() { grep -q "listening on" "$work/daemon.log" || ! running "$dpid"; }
wait_for 20 daemon_up_or_gone || fail "daemon did not start in 20 s"
running "$dpid" || fail "daemon exited at start"
port="$(sed -n 's/.*(port \([0-9]*\)[,)].*/\1/p' "$work/daemon.log" | head -1)"
[[ -n "$port" ]] || fail "no port in the daemon's log"
mon="http://127.0.0.1:$port"
wait_for 20 curl -sf -m 5 -u "$user:$password" "$mon/readyz" || fail "/readyz never turned 200"
code="$(curl -s -o /dev/null -w '%{http_code}' -m 5 "$mon/metrics")"
[[ "$code" == 401 ]] || fail "/metrics without credentials answered $code, expected 401 (basic auth is off?)"

metric() {  # name, label matcher (e.g. result="ok"): the sample's value, 0 when absent
  curl -sf -m 5 -u "$user:$password" "$mon/metrics" | python3 -c '
import re, sys
name, label = sys.argv[1:3]
total = 0.0
for line in sys.stdin:
    m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)", line)
    if m and m.group(1) == name and label in (m.group(2) or ""):
        total += float(m.group(3))
print(int(total))' "$1" "$2"
}
metric_at_least() { (($(metric "$1" "$2") >= $3)); }

# --- Alertmanager --------------------------------------------------------------------------------
# The shipped route and receiver; the test replaces the URL, the password file and the timings
# (Alertmanager refuses a group_interval or repeat_interval of 0; group_wait may be 0).
python3 - "$snippet" "$mon/api/v1/alerts" "$user" "$work/password" >"$work/alertmanager.yml" <<'PY'
import sys, yaml
snippet, url, user, password_file = sys.argv[1:5]
cfg = yaml.safe_load(open(snippet))
def routes(r):
    yield r
    for c in r.get("routes", []):
        yield from routes(c)
hooks = [(r["name"], w) for r in cfg["receivers"] for w in r.get("webhook_configs", [])
         if w.get("url", "").endswith("/api/v1/alerts")]
if len(hooks) != 1:
    sys.exit(f"{snippet}: expected one webhook_config whose url ends in /api/v1/alerts, found {len(hooks)}")
(name, hook), = hooks
if hook.get("send_resolved") is not True:
    sys.exit(f"{snippet}: the webhook must have send_resolved: true (resolved ends the episode)")
hook["url"] = url
auth = hook.setdefault("http_config", {}).setdefault("basic_auth", {})
if "password_file" not in auth or "username" not in auth:
    sys.exit(f"{snippet}: the webhook's http_config.basic_auth needs username and password_file")
auth.update(username=user, password_file=password_file)
to_monitor = [r for r in routes(cfg["route"]) if r.get("receiver") == name]
if len(to_monitor) != 1 or to_monitor[0].get("continue") is not True:
    sys.exit(f"{snippet}: expected one route to {name}, with continue: true")
for r in routes(cfg["route"]):
    for k, v in (("group_wait", "1s"), ("group_interval", "2s"), ("repeat_interval", "4s")):
        if k in r or r is cfg["route"]:
            r[k] = v
print(yaml.safe_dump(cfg, sort_keys=False))
PY
amtool check-config "$work/alertmanager.yml" >"$work/amtool.out" 2>&1 \
  || { cat "$work/amtool.out" >&2; fail "amtool check-config of the test's alertmanager.yml"; }

am_up=0
for attempt in 1 2 3; do  # a free port picked here may be taken by the time Alertmanager binds it
  amport="$(free_port)"
  "$am_bin" --config.file="$work/alertmanager.yml" --storage.path="$work/am-data" \
    --web.listen-address="127.0.0.1:$amport" --cluster.listen-address= --log.level=info \
    >"$work/alertmanager.log" 2>&1 &
  ampid=$!
  pids+=("$ampid")
  deadline=$((SECONDS + 20))
  while running "$ampid" && ((SECONDS < deadline)); do
    if curl -sf -m 5 "http://127.0.0.1:$amport/-/ready" >/dev/null 2>&1; then am_up=1; break; fi
    sleep 0.1
  done
  ((am_up)) && break
  kill "$ampid" 2>/dev/null || true
  echo "alertmanager did not become ready on port $amport (attempt $attempt)" >&2
done
((am_up)) || fail "alertmanager did not start"
am="http://127.0.0.1:$amport"

# --- Prometheus ----------------------------------------------------------------------------------
# The rule: the shipped alert's name and severity (so that the shipped route takes it), firing as
# soon as a connection answers unhealthy (no `for`), with a summary for the audit's trigger text.
# keep_firing_for (Prometheus 2.42 or later): a scrape that fails or times out (1s here, on a
# loaded or ASan machine) makes the series stale for one evaluation; without it the alert would
# resolve and fire again with a new startsAt, a new episode that the test would count as a
# second purge. With it the alert keeps its startsAt through such a gap.
cat >"$work/rules.yml" <<'YAML'
groups:
  - name: e2e-alert-webhook
    rules:
      - alert: HotdataConnectionUnhealthy
        expr: hotdata_connection_healthy == 0
        keep_firing_for: 3s
        labels: { severity: warning }
        annotations:
          summary: "e2e: connection {{ $labels.connection }} is unhealthy"
YAML
cat >"$work/prometheus.yml" <<YAML
global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: ["$work/rules.yml"]
alerting:
  alertmanagers:
    - static_configs: [ { targets: ["127.0.0.1:$amport"] } ]
scrape_configs:
  - job_name: hotdata-monitor
    scrape_interval: 1s
    scrape_timeout: 1s
    basic_auth: { username: $user, password_file: $work/password }
    static_configs: [ { targets: ["127.0.0.1:$port"] } ]
YAML
promtool check config "$work/prometheus.yml" >"$work/promtool.out" 2>&1 \
  || { cat "$work/promtool.out" >&2; fail "promtool check config of the test's prometheus.yml"; }

prom_up=0
for attempt in 1 2 3; do
  pport="$(free_port)"
  prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
    --web.listen-address="127.0.0.1:$pport" --rules.alert.resend-delay=1s --log.level=warn \
    >"$work/prometheus.log" 2>&1 &
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

prom_has() {  # PromQL: true when it returns at least one series
  curl -sf -m 5 "$prom/api/v1/query" --data-urlencode "query=$1" \
    | python3 -c 'import json, sys; sys.exit(0 if json.load(sys.stdin)["data"]["result"] else 1)'
}
# Scraped through basic auth, every connection answered healthy, the alerting chain set up.
wait_for 30 prom_has 'up{job="hotdata-monitor"} == 1' \
  || fail "Prometheus never scraped the daemon (up == 1); basic auth from password_file?"
wait_for 30 prom_has 'count(hotdata_connection_healthy == 1) == 12' \
  || fail "Prometheus never saw 12 healthy connections"
prom_knows_am() {
  curl -sf -m 5 "$prom/api/v1/alertmanagers" | python3 -c '
import json, sys
sys.exit(0 if json.load(sys.stdin)["data"]["activeAlertmanagers"] else 1)'
}
wait_for 10 prom_knows_am || fail "Prometheus does not know the Alertmanager"
[[ ! -s "$work/purges.log" ]] || fail "a purge before any alert"
echo "$(date -u +%T) up: simulator, daemon on $port, alertmanager on $amport, prometheus on $pport ($((SECONDS - started)) s)"

purges() { grep -c . "$work/purges.log" || true; }
purges_at_least() { (($(purges) >= $1)); }
check_purges() {  # n: exactly n purges, every one of conn_0001's cache, answered 2xx
  local n
  n="$(purges)"
  ((n == $1)) || fail "the fake API saw $n purges, expected $1 ($2)"
  if grep -v -E '^[0-9]+ 2[0-9][0-9] /v1/connections/conn_0001/cache$' "$work/purges.log" >&2; then
    fail "a purge other than a successful DELETE /v1/connections/conn_0001/cache (above)"
  fi
}
# The successful audit entries of the policy, oldest first: "trigger" lines.
audit_successes() {
  curl -sf -m 5 -u "$user:$password" "$mon/api/v1/actions" | python3 -c '
import json, sys
for e in reversed(json.load(sys.stdin)["actions"]):
    if e.get("policy") == "e2e-purge-on-alert" and e.get("outcome") == "success":
        if e.get("connection_id") != "conn_0001":
            sys.exit(f"a successful entry for another connection: {e}")
        print(e.get("trigger", ""))'
}
audit_count_at_least() { (($(audit_successes | grep -c .) >= $1)); }
check_trigger() {  # line number (1-based) of audit_successes: names the alert, its start, its summary
  local t
  t="$(audit_successes | sed -n "${1}p")" || fail "could not read the audit entries"
  local re='^alert HotdataConnectionUnhealthy firing since [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9]{2}:[0-9]{2}): e2e: connection prod-pg-01 is unhealthy$'
  [[ "$t" =~ $re ]] \
    || fail "audit entry $1's trigger is \"$t\", expected \"alert HotdataConnectionUnhealthy firing since <RFC 3339>: e2e: connection prod-pg-01 is unhealthy\""
  echo "  audit: $t"
}

# --- 1. the alert fires: one purge -----------------------------------------------------------------
sim unhealthy conn_0001
wait_for 60 purges_at_least 1 || fail "no purge within 60 s of conn_0001 turning unhealthy"
echo "$(date -u +%T) first purge ($((SECONDS - started)) s)"
first_purge_ms="$(awk 'NR == 1 {print $1}' "$work/purges.log")"
wait_for 10 audit_count_at_least 1 || fail "no successful audit entry of e2e-purge-on-alert"
check_purges 1 "after the first notification"
check_trigger 1
metric_at_least hotdata_webhook_alerts_total 'status="firing"' 1 \
  || fail "hotdata_webhook_alerts_total{status=\"firing\"} is 0 after a purge"

# --- 2. repeats purge nothing ----------------------------------------------------------------------
ok0="$(metric hotdata_webhook_requests_total 'result="ok"')"
wait_for 45 metric_at_least hotdata_webhook_requests_total 'result="ok"' $((ok0 + 3)) \
  || fail "Alertmanager did not repeat the notification 3 times (repeat_interval 4s) in 45 s"
echo "$(date -u +%T) $(($(metric hotdata_webhook_requests_total 'result="ok"') - ok0)) more notifications ($((SECONDS - started)) s)"
check_purges 1 "after 3 repeats of the same alert"
(($(audit_successes | grep -c .) == 1)) || fail "more than one successful audit entry after the repeats"

# --- 3. resolved -----------------------------------------------------------------------------------
sim healthy conn_0001
wait_for 45 metric_at_least hotdata_webhook_alerts_total 'status="resolved"' 1 \
  || fail "the resolved notification never reached the daemon"
echo "$(date -u +%T) resolved notification counted ($((SECONDS - started)) s)"
check_purges 1 "after the alert resolved"

# --- 4. fires again past the cooldown: one more purge ---------------------------------------------
# The cooldown started when the decision was taken, before the fake API logged the purge.
past_cooldown() { (($(date +%s%3N) > first_purge_ms + cooldown_s * 1000 + 1000)); }
wait_for $((cooldown_s + 5)) past_cooldown || fail "clock: the cooldown never passed"
sim unhealthy conn_0001
wait_for 60 purges_at_least 2 || fail "no second purge within 60 s of conn_0001 turning unhealthy again"
echo "$(date -u +%T) second purge ($((SECONDS - started)) s)"
wait_for 10 audit_count_at_least 2 || fail "no second successful audit entry"
check_purges 2 "after the alert fired again"
check_trigger 2
triggers="$(audit_successes)" || fail "could not read the audit entries"
[[ "$(sed -n 1p <<<"$triggers")" != "$(sed -n 2p <<<"$triggers")" ]] \
  || fail "both purges' triggers name the same start: the second should be a new episode"
ok1="$(metric hotdata_webhook_requests_total 'result="ok"')"
wait_for 30 metric_at_least hotdata_webhook_requests_total 'result="ok"' $((ok1 + 2)) \
  || fail "Alertmanager did not repeat the second episode's notification twice in 30 s"
check_purges 2 "after 2 repeats of the second episode"

bad="$(metric hotdata_webhook_requests_total 'result="bad_request"')"
((bad == 0)) || fail "hotdata_webhook_requests_total{result=\"bad_request\"} is $bad: Alertmanager's body refused"
running "$dpid" || fail "the daemon exited"
echo "alert_webhook_test: ok ($((SECONDS - started)) s: 2 purges for 2 alert episodes, $(metric hotdata_webhook_requests_total 'result="ok"') notifications)"
