#!/usr/bin/env bash
# The Grafana files of deploy/grafana, checked without a Grafana: the dashboard JSON (variables,
# datasource references, __inputs for import, the per-connection row collapsed to the worst $top,
# links from the connections table, panel ids and layout), the dashboard provider, and the alert-rule
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
raw = open(path).read()
dash = json.loads(raw)
check(dash.get("uid") == "hotdata-monitor", "dashboard uid is not hotdata-monitor")
check(dash.get("id") is None, "a provisioned dashboard must have id null")

# Import on grafana.com (and "Import dashboard"): one datasource input, DS_PROMETHEUS, which the
# datasource variable defaults to; every panel, query, variable and annotation goes through that
# variable, so the same file also works when provisioned (where no input is substituted).
inputs = dash.get("__inputs")
check(isinstance(inputs, list) and [i.get("name") for i in inputs] == ["DS_PROMETHEUS"],
      f"__inputs must declare exactly one input, DS_PROMETHEUS, got {inputs!r}")
for i in inputs or []:
    check(i.get("type") == "datasource" and i.get("pluginId") == "prometheus" and i.get("label"),
          f"__inputs {i.get('name')}: type datasource, pluginId prometheus and a label")
used = set(re.findall(r"\$\{(DS_\w+)\}", raw))
check(used == {"DS_PROMETHEUS"}, f"${{DS_...}} references {sorted(used)} must be exactly the declared DS_PROMETHEUS")
requires = {(r.get("type"), r.get("id")) for r in dash.get("__requires", [])}
check(("grafana", "grafana") in requires and ("datasource", "prometheus") in requires,
      "__requires must name grafana and the prometheus datasource")

variables = {v["name"]: v for v in dash.get("templating", {}).get("list", [])}
def vquery(v):
    q = v.get("query", "")
    return q.get("query", "") if isinstance(q, dict) else q
ds = variables.get("datasource", {})
check(ds.get("type") == "datasource" and ds.get("query") == "prometheus",
      "no datasource variable `datasource` of type prometheus")
check(ds.get("current", {}).get("value") == "${DS_PROMETHEUS}",
      "the datasource variable must default to ${DS_PROMETHEUS} (the __inputs datasource)")
# Chained variables: job -> workspace -> instance -> source_type -> connection, each multi with All = .*
chain = {
    "workspace": r'label_values\(hotdata_monitor_build_info\{job="\$job"\}, *workspace\)',
    "instance": r'label_values\(hotdata_monitor_build_info\{job="\$job",workspace=~"\$workspace"\}, *instance\)',
    "source_type": r'label_values\(hotdata_connection_info\{job="\$job",workspace=~"\$workspace",instance=~"\$instance"\}, *source_type\)',
    "connection": r'label_values\(hotdata_connection_info\{job="\$job",workspace=~"\$workspace",instance=~"\$instance",source_type=~"\$source_type"\}, *connection\)',
}
for name, pattern in chain.items():
    v = variables.get(name, {})
    check(v.get("type") == "query" and re.fullmatch(pattern, vquery(v) or ""),
          f"variable {name} must be {pattern.replace(chr(92), '')}, got {vquery(v)!r}")
    check(v.get("multi") is True and v.get("includeAll") is True, f"variable {name} must be multi and include All")
    check(v.get("allValue") == ".*", f"variable {name}: All must be .* (not a regex of every value)")
names = [v["name"] for v in dash["templating"]["list"]]
check([n for n in names if n in ("job", *chain)] == ["job", *chain],
      f"variables must come in the order job, {', '.join(chain)} (each depends on the ones before)")
for name, v in variables.items():
    if v["type"] == "query":
        check(v.get("datasource", {}).get("uid") == "${datasource}", f"variable {name} does not use ${{datasource}}")
# The worst few by default: the per-connection panels and the connections table show topk($top).
top = variables.get("top", {})
opts = [o.get("value") for o in top.get("options", [])]
check(top.get("type") == "custom" and top.get("multi") is not True and top.get("includeAll") is not True,
      "variable top must be a single-value custom variable")
check(str(top.get("current", {}).get("value", "")).isdigit() and 1 <= int(top["current"]["value"]) <= 20
      and top["current"]["value"] in opts and all(str(o).isdigit() for o in opts),
      f"variable top must default to a few connections (1..20), one of its numeric options {opts}, got {top.get('current')}")
for a in dash.get("annotations", {}).get("list", []):
    if a.get("builtIn"):
        continue
    check(a.get("datasource", {}).get("uid") == "${datasource}", f'annotation "{a.get("name")}" does not use ${{datasource}}')

def panels(ps):
    for p in ps:
        yield p
        yield from panels(p.get("panels", []))
ids = set()
def layout(ps, space):  # panels of one layout: the top level, or the inside of a collapsed row
    cells = {}
    for p in ps:
        title = p.get("title", "?")
        g = p.get("gridPos", {})
        check(all(k in g for k in "hwxy") and g["x"] + g["w"] <= 24, f'panel "{title}": bad gridPos {g}')
        for x in range(g.get("x", 0), g.get("x", 0) + g.get("w", 0)):
            for y in range(g.get("y", 0), g.get("y", 0) + g.get("h", 0)):
                check((x, y) not in cells, f'panel "{title}" overlaps "{cells.get((x, y))}" ({space})')
                cells[(x, y)] = title
layout(dash["panels"], "top level")
for r in dash["panels"]:
    if r["type"] == "row":
        check(r.get("collapsed") or not r.get("panels"), f'row "{r.get("title")}": only a collapsed row holds panels')
        if r.get("collapsed"):
            layout(r.get("panels", []), f'inside row "{r.get("title")}"')
            check(all(p["gridPos"]["y"] > r["gridPos"]["y"] for p in r.get("panels", [])),
                  f'row "{r.get("title")}": its panels must sit below it')
    else:
        check(not r.get("panels"), f'panel "{r.get("title")}" holds panels but is no row')

# A selector naming $instance also names $workspace (a monitor may be All while one workspace is
# picked); one naming $connection also filters by $source_type (joined through
# hotdata_connection_info, the only series with the label). ALERTS are exempt: an alert that
# aggregates by instance has no workspace label; the panels join them to up{workspace=~...}.
SELECTOR = re.compile(r'(\w*)(\{[^{}]*\})')
all_exprs = []
for p in panels(dash["panels"]):
    title = p.get("title", "?")
    check(isinstance(p.get("id"), int) and p["id"] not in ids, f'panel "{title}": missing or duplicate id')
    ids.add(p.get("id"))
    if p["type"] == "row":
        continue
    check(p.get("datasource", {}).get("uid") == "${datasource}", f'panel "{title}" does not use ${{datasource}}')
    check(p.get("targets"), f'panel "{title}" has no query')
    refs = [t.get("refId") for t in p.get("targets", [])]
    check(len(set(refs)) == len(refs) and None not in refs, f'panel "{title}": missing or duplicate refId')
    for t in p.get("targets", []):
        e = t.get("expr", "")
        all_exprs.append(e)
        where = f'panel "{title}" {t.get("refId")}'
        check(e.strip(), f"{where}: empty expr")
        check(t.get("datasource", {}).get("uid") == "${datasource}", f"{where} does not use ${{datasource}}")
        check("$connection" not in e or 'connection=~"$connection"' in e, f"{where}: a multi-value variable needs =~")
        for name, s in SELECTOR.findall(e):
            check(name == "ALERTS" or 'instance=~"$instance"' not in s or 'workspace=~"$workspace"' in s,
                  f"{where}: selector {s} names $instance but not $workspace")
        check("$connection" not in e or 'source_type=~"$source_type"' in e, f"{where}: filters by $connection but not $source_type")
for metric in ("hotdata_connection_healthy", "hotdata_connection_latency_seconds", "hotdata_api_requests_total",
               "hotdata_policy_actions_total", "hotdata_policy_suppressed_total", "hotdata_policy_outage_pause",
               "hotdata_policy_budget_remaining", "hotdata_policy_budget_limit",  # the purge budget
               "hotdata_monitor_round_duration_seconds", "hotdata_monitor_rounds_overrun_total",
               "process_cpu_seconds_total", "process_resident_memory_bytes",
               "hotdata_monitor_config_last_reload_successful",
               # table freshness, state save errors and firing alerts
               "hotdata_table_last_synced_timestamp_seconds", "hotdata_monitor_state_save_errors_total",
               'ALERTS{alertstate="firing"'):
    check(any(metric in e for e in all_exprs), f"no panel query shows {metric}")

# The per-connection row: collapsed (10,000 connections are not drawn until asked for), every
# query ranked to the worst $top of the selected connections.
per_conn = [r for r in dash["panels"] if r["type"] == "row" and "$connection" in r.get("title", "")]
check(len(per_conn) == 1, "one row whose title names $connection: the per-connection view")
for r in per_conn:
    check(r.get("collapsed") is True and r.get("panels"), f'row "{r["title"]}" must be collapsed and hold its panels')
    for p in r.get("panels", []):
        for t in p.get("targets", []):
            e = t.get("expr", "")
            check(re.search(r"\b(topk|bottomk)\(\$top,", e) and 'connection=~"$connection"' in e,
                  f'panel "{p.get("title")}" {t.get("refId")} in the per-connection row must show topk/bottomk($top, ...) '
                  f'of connection=~"$connection"')
# The connections table: the worst $top, and each connection's name links to the per-connection view.
table = [p for p in dash["panels"] if p["type"] == "table" and p.get("title", "").startswith("Connections")]
check(len(table) == 1, "one table panel titled Connections...")
def links_of(p, field):
    for o in p.get("fieldConfig", {}).get("overrides", []):
        if o.get("matcher", {}).get("options") == field:
            for prop in o.get("properties", []):
                if prop.get("id") == "links":
                    yield from prop.get("value", [])
for p in table:
    for t in p.get("targets", []):
        check(re.search(r"\btopk\(\$top,", t.get("expr", "")), f'connections table {t.get("refId")}: not limited to topk($top, ...)')
    links = list(links_of(p, "Connection"))
    check(links, 'the connections table has no link on its "Connection" column')
    for l in links:
        url = l.get("url", "")
        check(url.startswith(f"/d/{dash['uid']}/") and "var-connection=${__value.raw}" in url
              and "${__url_time_range}" in url,
              f"connections table link must open /d/{dash['uid']}/ with var-connection=${{__value.raw}} and the time range: {url}")
        for name in ("datasource", "job", "workspace", "instance"):
            check(f"${{{name}:queryparam}}" in url, f"connections table link does not carry ${{{name}:queryparam}}: {url}")
        check("var-source_type" not in url and "${source_type" not in url and "${connection" not in url,
              f"connections table link must reset source_type and set connection alone: {url}")

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
