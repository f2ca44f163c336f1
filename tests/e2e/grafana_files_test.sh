#!/usr/bin/env bash
# The Grafana files of deploy/grafana, checked without a Grafana: the dashboard JSON (variables,
# datasource references, panel ids and layout), the dashboard provider, and the alert-rule
# provisioning (a query -> reduce -> threshold pipeline per rule, mirroring every alert of
# deploy/prometheus/alerts.yml with the same severity and duration, linked to existing panels).
# That their queries parse and return data is prometheus_e2e_test.sh's job.
# Usage: grafana_files_test.sh BUILD_DIR SOURCE_DIR   (needs python3 with PyYAML)
set -euo pipefail
src="$(cd "$2" && pwd)"
python3 -c 'import yaml' 2>/dev/null \
  || { echo "FAIL: python3 with PyYAML is needed (Debian package python3-yaml)" >&2; exit 1; }

python3 - "$src/deploy" <<'PY'
import json, re, sys, yaml
deploy = sys.argv[1]
problems = []
def check(cond, msg):
    if not cond:
        problems.append(msg)

# --- dashboard --------------------------------------------------------------------------------
path = f"{deploy}/grafana/dashboards/hotdata-monitor.json"
dash = json.load(open(path))
check(dash.get("uid") == "hotdata-monitor", "dashboard uid is not hotdata-monitor")
check(dash.get("id") is None, "a provisioned dashboard must have id null")
variables = {v["name"]: v for v in dash.get("templating", {}).get("list", [])}
ds = variables.get("datasource", {})
check(ds.get("type") == "datasource" and ds.get("query") == "prometheus",
      "no datasource variable `datasource` of type prometheus")
conn = variables.get("connection", {})
q = conn.get("query", {})
q = q.get("query", "") if isinstance(q, dict) else q
check(conn.get("type") == "query" and re.fullmatch(r"label_values\(hotdata_connection_info(\{.*\})?, *connection\)", q or ""),
      f"variable connection must be label_values(hotdata_connection_info, connection), got {q!r}")
check(conn.get("multi") is True and conn.get("includeAll") is True, "variable connection must be multi and include All")
check(conn.get("allValue") == ".*", "variable connection: All must be .* (not a regex of every name)")
for name, v in variables.items():
    if v["type"] == "query":
        check(v.get("datasource", {}).get("uid") == "${datasource}", f"variable {name} does not use ${{datasource}}")

def panels(ps):
    for p in ps:
        yield p
        yield from panels(p.get("panels", []))
ids, cells = set(), {}
for p in panels(dash["panels"]):
    title = p.get("title", "?")
    check(isinstance(p.get("id"), int) and p["id"] not in ids, f'panel "{title}": missing or duplicate id')
    ids.add(p.get("id"))
    g = p.get("gridPos", {})
    check(all(k in g for k in "hwxy") and g["x"] + g["w"] <= 24, f'panel "{title}": bad gridPos {g}')
    for x in range(g.get("x", 0), g.get("x", 0) + g.get("w", 0)):
        for y in range(g.get("y", 0), g.get("y", 0) + g.get("h", 0)):
            check((x, y) not in cells, f'panel "{title}" overlaps "{cells.get((x, y))}"')
            cells[(x, y)] = title
    if p["type"] == "row":
        continue
    check(p.get("datasource", {}).get("uid") == "${datasource}", f'panel "{title}" does not use ${{datasource}}')
    check(p.get("targets"), f'panel "{title}" has no query')
    refs = [t.get("refId") for t in p.get("targets", [])]
    check(len(set(refs)) == len(refs) and None not in refs, f'panel "{title}": missing or duplicate refId')
    for t in p.get("targets", []):
        check(t.get("expr", "").strip(), f'panel "{title}" {t.get("refId")}: empty expr')
        check(t.get("datasource", {}).get("uid") == "${datasource}", f'panel "{title}" {t.get("refId")} does not use ${{datasource}}')
        check("$connection" not in t.get("expr", "") or 'connection=~"$connection"' in t["expr"],
              f'panel "{title}" {t.get("refId")}: a multi-value variable needs =~')
for metric in ("hotdata_connection_healthy", "hotdata_connection_latency_seconds", "hotdata_api_requests_total",
               "hotdata_policy_actions_total", "hotdata_policy_suppressed_total", "hotdata_policy_outage_pause",
               "hotdata_monitor_round_duration_seconds", "hotdata_monitor_rounds_overrun_total",
               "process_cpu_seconds_total", "process_resident_memory_bytes",
               "hotdata_monitor_config_last_reload_successful"):
    check(metric in json.dumps(dash), f"the dashboard shows no {metric}")

# --- dashboard provider -------------------------------------------------------------------------
prov = yaml.safe_load(open(f"{deploy}/grafana/provisioning/dashboards.yml"))
check(prov.get("apiVersion") == 1, "dashboards.yml: apiVersion must be 1")
for p in prov.get("providers", []):
    check(p.get("type") == "file" and p.get("options", {}).get("path"), "dashboards.yml: a file provider with options.path")
check(prov.get("providers"), "dashboards.yml: no provider")

# --- alert rules --------------------------------------------------------------------------------
prom = {}
for g in yaml.safe_load(open(f"{deploy}/prometheus/alerts.yml"))["groups"]:
    for r in g["rules"]:
        if "alert" in r:
            prom[r["alert"]] = r
ga = yaml.safe_load(open(f"{deploy}/grafana/provisioning/alerting/hotdata-monitor.yml"))
check(ga.get("apiVersion") == 1, "alerting: apiVersion must be 1")
grules, uids = {}, set()
for g in ga.get("groups", []):
    check(g.get("folder") and g.get("name") and g.get("interval"), f"alerting group {g.get('name')}: folder, name, interval")
    for r in g.get("rules", []):
        t = r.get("title", "?")
        grules[t] = r
        check(r.get("uid") and len(r["uid"]) <= 40 and r["uid"] not in uids, f"{t}: uid missing, too long or duplicate")
        uids.add(r.get("uid"))
        data = {d["refId"]: d for d in r.get("data", [])}
        queries = [d for d in data.values() if d.get("datasourceUid") != "__expr__"]
        check(len(queries) == 1 and queries[0]["model"].get("expr"), f"{t}: one Prometheus query with an expr")
        check(all(d.get("datasourceUid") == "prometheus" for d in queries), f'{t}: datasourceUid must be "prometheus"')
        reduce = [d for d in data.values() if d["model"].get("type") == "reduce"]
        thresh = [d for d in data.values() if d["model"].get("type") == "threshold"]
        check(len(reduce) == 1 and queries and reduce[0]["model"].get("expression") == queries[0]["refId"],
              f"{t}: a reduce expression of the query")
        check(len(thresh) == 1 and reduce and thresh[0]["model"].get("expression") == reduce[0]["refId"]
              and thresh[0]["model"].get("conditions", [{}])[0].get("evaluator", {}).get("type") in ("gt", "lt"),
              f"{t}: a threshold expression of the reduce")
        check(thresh and r.get("condition") == thresh[0]["refId"], f"{t}: condition must be the threshold")
        check(r.get("noDataState") in ("OK", "NoData", "Alerting") and r.get("execErrState") in ("OK", "Error", "Alerting"),
              f"{t}: noDataState/execErrState")
        ann = r.get("annotations", {})
        check(ann.get("summary") and ann.get("description"), f"{t}: summary and description")
        check(r.get("dashboardUid") == dash.get("uid") and r.get("panelId") in ids,
              f"{t}: links to a panel that does not exist (dashboardUid, panelId)")
        check("$value " not in json.dumps(ann) and "$value}" not in json.dumps(ann),
              f"{t}: Grafana has no $value; use $values.B.Value")
        p = prom.get(t)
        if p:
            check(r.get("labels", {}).get("severity") == p["labels"]["severity"], f"{t}: severity differs from alerts.yml")
            check(str(r.get("for", "0s")) in (str(p.get("for", "0s")), "0m" if p.get("for") is None else ""),
                  f"{t}: for {r.get('for')} differs from alerts.yml ({p.get('for', '0s')})")
check(set(grules) == set(prom), f"Grafana rules {sorted(set(grules) ^ set(prom))} are not in both alert files")

for p in problems:
    print("FAIL:", p, file=sys.stderr)
if problems:
    sys.exit(1)
print(f"grafana_files_test: ok ({len(ids)} panels, {len(variables)} variables, {len(grules)} alert rules)")
PY
