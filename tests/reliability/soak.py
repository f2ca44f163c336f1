#!/usr/bin/env python3
"""A bounded soak of hotdata-monitor (issue #7), one command:

    python3 tests/reliability/soak.py --minutes M [--connections 10000] [--build-dir build]
        [--json FILE]

Needs hotdata-monitor and hotdata-simulator built in --build-dir (RelWithDebInfo for figures)
and wrk (installed from Debian if missing). Runs the simulator (HTTPS, --static, every health
check answering after --latency-ms) and the daemon with policies that fire (a schedule, and
unhealthy / recovered policies fed by connections that a thread turns unhealthy and healthy
through the simulator's control stdin) under a purge budget. After a warm-up of two rounds, for
M minutes: two wrk clients scrape /metrics back to back (one with Accept-Encoding: gzip, one
without), and six reloads go in (SIGHUP and POST /-/reload; unchanged, changed and valid, and one
invalid config, which must be rejected while the old one stays in force). Measured from the
outside: rounds completed (hotdata_monitor_rounds_total) against the rounds the window holds,
each round's duration against the interval (sampled from /metrics every few seconds),
hotdata_monitor_rounds_overrun_total, wrk's requests, non-2xx answers and socket errors, what
hotdata_monitor_config_last_reload_successful and its timestamp said after each reload, the
daemon's RSS and open fds (/proc) after warm-up, at the end and their max, its CPU, and the
machine's load average. Prints a Markdown table (for docs/reliability.md, "Soak") and
writes the figures as JSON to --json. Loopback only; every process is bounded in time.
"""

import argparse
import collections
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import support  # noqa: E402
from support import metric_sum, open_fds, proc_status, stop_process, wait_for  # noqa: E402
from run_bench import cpu_seconds, ensure_package, parse_metrics  # noqa: E402

INTERVAL_S = 10
CONCURRENCY = 64
SAMPLE_PERIOD_S = 3
# Families this program reads: the rest of a 10,000-connection exposition is not parsed.
PREFIXES = ("hotdata_monitor_", "hotdata_policy_", "process_")


def log(msg):
    print(f"[soak {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def config_text(sim, state_file, variant):
    """The daemon's config. "base" and "changed" are valid (changed: other cooldowns, match and
    one more policy); "invalid" is rejected by the loader."""
    refresh_cooldown = "30s" if variant == "base" else "45s"
    interval = "five" if variant == "invalid" else f"{INTERVAL_S}s"
    extra = ("  - name: purge-slow\n"
             "    match: { id: [\"conn_01*\"] }\n"
             "    when: { event: latency_above, threshold: 60ms, for: 20s }\n"
             "    action: { purge: connection }\n"
             "    cooldown: 10m\n" if variant == "changed" else "")
    return (
        "api:\n"
        f"  base_url: {sim.url}\n"
        "  token_env: HOTDATA_API_TOKEN\n"
        "  timeout: 5s\n"
        f"  tls: {{ ca_file: {sim.cert} }}\n"
        "scheduler:\n"
        f"  interval: {interval}\n"
        "  discovery_interval: 2m\n"
        f"  concurrency: {CONCURRENCY}\n"
        "server:\n"
        "  listen: \"127.0.0.1:0\"\n"
        f"state_file: {state_file}\n"
        "safety:\n"
        "  max_purges_per_hour: 500\n"
        "  pause_when_unhealthy_fraction_above: 0.5\n"
        "policies:\n"
        "  - name: refresh-orders\n"
        "    match: { id: [\"conn_00*\"], source_type: [postgres, mysql] }\n"
        "    when: { event: schedule, every: 20s }\n"
        "    action: { purge: table, tables: [public.orders] }\n"
        f"    cooldown: {refresh_cooldown}\n"
        "  - name: purge-on-outage\n"
        "    when: { event: unhealthy, after_failures: 2 }\n"
        "    action: { purge: table, tables: [public.customers] }\n"
        "    cooldown: 5m\n"
        "  - name: purge-after-outage\n"
        "    match: { source_type: [postgres, mysql, snowflake, bigquery] }\n"
        "    when: { event: recovered, after_failures: 1 }\n"
        "    action: { purge: connection }\n"
        "    cooldown: 5m\n" + extra)


def monitor_metrics(http):
    """The daemon's own families of /metrics (the per-connection ones are skipped unparsed)."""
    status, _, body = http.get("/metrics")
    if status != 200:
        raise RuntimeError(f"/metrics answered {status}")
    lines = [l for l in body.decode().splitlines() if l.startswith(PREFIXES)]
    return parse_metrics("\n".join(lines))


class Sampler:
    """Every SAMPLE_PERIOD_S: the daemon's RSS, fds and round figures; each new round's duration
    (a jump of more than one round between samples leaves rounds unsampled, counted)."""

    def __init__(self, daemon):
        self.daemon = daemon
        self.http = support.Http(daemon.port)  # its own: http.client is one thread's
        self.samples = []
        self.durations = []
        self.unsampled_rounds = 0
        self.errors = []
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def take(self):
        """One sample; not to be called while the thread runs."""
        m = monitor_metrics(self.http)
        s = {"t": time.time(), "rss_kb": proc_status(self.daemon.pid, "VmRSS"),
             "fds": open_fds(self.daemon.pid), "cpu_s": cpu_seconds(self.daemon.pid),
             "rounds": metric_sum(m, "hotdata_monitor_rounds_total"),
             "overrun": metric_sum(m, "hotdata_monitor_rounds_overrun_total"),
             "duration": metric_sum(m, "hotdata_monitor_round_duration_seconds"),
             "round_start": metric_sum(m, "hotdata_monitor_last_round_timestamp_seconds")
             - metric_sum(m, "hotdata_monitor_round_duration_seconds"),
             "metrics": m}
        if self.samples:
            new = s["rounds"] - self.samples[-1]["rounds"]
            if new >= 1:
                self.durations.append(s["duration"])
                self.unsampled_rounds += int(new) - 1
        self.samples.append(s)
        return s

    def next_round_end(self):
        """Samples until a round completes; returns that sample. Not while the thread runs."""
        first = self.take()["rounds"]

        def ended():
            s = self.take()
            return s if s["rounds"] > first else None
        return wait_for("a round to end", ended, 3 * INTERVAL_S + 60, period=0.5)

    def _run(self):
        while not self.stop_event.wait(SAMPLE_PERIOD_S):
            try:
                self.take()
            except (OSError, RuntimeError) as e:
                self.errors.append(str(e))

    def start(self):
        self.thread.start()

    def stop(self):
        self.stop_event.set()
        self.thread.join(60)


class Toggler:
    """Every 5 s turns 5 random connections unhealthy for 20-40 s, through the simulator's
    control stdin, until stopped."""

    def __init__(self, sim, connections, rng):
        self.sim = sim
        self.connections = connections
        self.rng = rng
        self.toggles = 0
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        healthy_again = {}
        while not self.stop_event.wait(5):
            now = time.monotonic()
            for cid, when in list(healthy_again.items()):
                if when <= now:
                    self.sim.set_health(cid, True)
                    self.toggles += 1
                    del healthy_again[cid]
            for _ in range(5):
                cid = f"conn_{self.rng.randint(1, self.connections):04d}"
                if cid not in healthy_again:
                    self.sim.set_health(cid, False)
                    self.toggles += 1
                    healthy_again[cid] = now + self.rng.uniform(20, 40)

    def stop(self):
        self.stop_event.set()
        self.thread.join(30)


class Wrk:
    """wrk scraping /metrics back to back over one keep-alive connection for `seconds`."""

    def __init__(self, port, seconds, gzip, out_path):
        args = ["wrk", "-t1", "-c1", f"-d{seconds}s", "--timeout", "10s", "--latency"]
        if gzip:
            args += ["-H", "Accept-Encoding: gzip"]
        self.out_path = out_path
        self.out = open(out_path, "w")
        self.proc = subprocess.Popen(args + [f"http://127.0.0.1:{port}/metrics"],
                                     stdout=self.out, stderr=subprocess.STDOUT)

    def result(self, timeout):
        self.proc.wait(timeout)
        self.out.close()
        with open(self.out_path) as f:
            text = f.read()
        requests = re.search(r"(\d+) requests in", text)
        errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                           text)
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
        p50 = re.search(r"50%\s+(\S+)", text)
        p99 = re.search(r"99%\s+(\S+)", text)
        if not requests:
            raise RuntimeError(f"wrk said: {text[-500:]}")
        return {"requests": int(requests.group(1)),
                "socket_errors": sum(int(g) for g in errors.groups()) if errors else 0,
                "non_2xx": int(non2xx.group(1)) if non2xx else 0,
                "latency_p50": p50.group(1) if p50 else None,
                "latency_p99": p99.group(1) if p99 else None,
                "exit_code": self.proc.returncode}


def reload_state(daemon):
    m = monitor_metrics(daemon.http)
    return (metric_sum(m, "hotdata_monitor_config_last_reload_successful"),
            metric_sum(m, "hotdata_monitor_config_last_reload_success_timestamp_seconds"))


def do_reload(daemon, config, text, how, valid):
    """Writes `text` to the config, reloads by `how` (SIGHUP or POST), and returns what the
    metrics said: agreed when a valid config set the gauge to 1 with a newer timestamp, and an
    invalid one set it to 0."""
    _, before = reload_state(daemon)
    time.sleep(max(0.0, before + 1.05 - time.time()))  # the timestamp has a second's resolution
    with open(config, "w") as f:
        f.write(text)
    status = None
    if how == "SIGHUP":
        os.kill(daemon.pid, signal.SIGHUP)
    else:
        status, _ = daemon.post("/-/reload")

    def settled():
        ok, at = reload_state(daemon)
        return (ok == 1 and at > before) if valid else ok == 0
    try:
        wait_for(f"the {how} reload to show in /metrics", settled, 15, period=0.25)
        agreed = True
    except RuntimeError:
        agreed = False
    ok, _ = reload_state(daemon)
    http_ok = status is None or status == (200 if valid else 500)
    log(f"reload by {how}, {'valid' if valid else 'invalid'} config: metrics say "
        f"last_reload_successful={ok:.0f}{'' if agreed else ' (NOT as expected)'}"
        + (f", HTTP {status}" if status is not None else ""))
    return {"how": how, "valid": valid, "http_status": status,
            "last_reload_successful": ok, "agreed": agreed and http_ok}


def failed_purges(daemon):
    """{detail: count} of the failed purges among the daemon's latest audit entries."""
    _, _, body = daemon.http.get("/api/v1/actions")
    return dict(collections.Counter(e["detail"] for e in json.loads(body)["actions"]
                                    if e["outcome"] == "failed"))


def mb(kb):
    return kb / 1024


def table(r):
    w = r["window"]
    rows = [
        ("Setup", f"{r['connections']:,} connections over HTTPS, health latency "
                  f"{r['latency_ms']} ms, interval {INTERVAL_S} s, concurrency {CONCURRENCY}; "
                  f"{w['minutes']:.1f} min after a two-round warm-up"),
        ("Rounds", f"{w['rounds_completed']} completed of {w['rounds_expected']} expected (one "
                   f"per interval); "
                   f"{w['rounds_on_time']} of {w['rounds_sampled']} sampled on time (<= interval), "
                   f"duration median {w['round_s_median']:.2f} s, max {w['round_s_max']:.2f} s"),
        ("Rounds overrun", f"{w['rounds_overrun']:.0f} (hotdata_monitor_rounds_overrun_total)"),
        ("Scrapes (wrk)", f"{r['scrapes']} ({r['wrk_plain']['requests']} plain, "
                          f"{r['wrk_gzip']['requests']} gzip), back to back; p50 "
                          f"{r['wrk_plain']['latency_p50']} plain / {r['wrk_gzip']['latency_p50']} "
                          f"gzip"),
        ("Scrape errors", f"{r['scrape_non_2xx']} non-2xx, {r['scrape_socket_errors']} socket "
                          f"errors"),
        ("Reloads", f"{len(r['reloads'])} ({r['reloads_valid']} valid: SIGHUP and POST "
                    f"/-/reload, unchanged and changed; {r['reloads_invalid']} invalid); "
                    f"metrics agreed on {r['reloads_agreed']} of {len(r['reloads'])}"),
        ("Policies", f"{r['purges']:.0f} purges ({r['purges_failed']:.0f} failed), "
                     f"{r['suppressed']:.0f} suppressed; {r['toggles']} health toggles"),
        ("Daemon RSS", f"{mb(r['rss_kb_start']):.1f} MB after warm-up (before any scrape), "
                       f"{mb(r['rss_kb_idle_end']):.1f} MB at the end with no scrape in flight; "
                       f"{mb(r['rss_kb_end']):.1f} MB at the last sample under scrapes, max "
                       f"{mb(r['rss_kb_max']):.1f} MB"),
        ("Daemon open fds", f"{r['fds_start']} after warm-up, {r['fds_end']} at the end, max "
                            f"{r['fds_max']}"),
        ("Daemon CPU", f"{r['cpu_s']:.0f} s over the window ({r['cpu_cores']:.2f} cores)"),
        ("Machine", f"{r['cores']} cores, load average {r['load_start']:.2f} at start, "
                    f"{r['load_end']:.2f} at the end"),
    ]
    out = ["| Soak | Result |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in rows]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=5)
    ap.add_argument("--connections", type=int, default=10000)
    ap.add_argument("--latency-ms", type=int, default=30)
    ap.add_argument("--build-dir", default=os.path.join(support.ROOT, "build"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", help="write the figures to this file")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    args = ap.parse_args()
    build = os.path.abspath(args.build_dir)
    support.binaries(build)
    ensure_package("wrk", "wrk")
    rng = random.Random(args.seed)
    workdir = tempfile.mkdtemp(prefix="hdm-soak-")
    load_start = os.getloadavg()[0]
    log(f"{args.connections} connections, {args.minutes} min, load average {load_start:.2f}, "
        f"work dir {workdir}")
    sim = daemon = toggler = None
    try:
        sim = support.Simulator(build, workdir, args.connections, args.latency_ms, tls=True)
        state_file = os.path.join(workdir, "state.json")
        config = os.path.join(workdir, "config.yaml")
        base = config_text(sim, state_file, "base")
        changed = config_text(sim, state_file, "changed")
        with open(config, "w") as f:
            f.write(base)
        daemon = support.Monitor(build, config, os.path.join(workdir, "daemon.log"))
        sampler = Sampler(daemon)
        log("warm-up: two rounds")
        wait_for("two rounds", lambda: sampler.take()["rounds"] >= 2, 6 * INTERVAL_S + 60,
                 period=1)
        toggler = Toggler(sim, args.connections, rng)
        seconds = int(args.minutes * 60)
        # The window runs from a round's end to a round's end, so that the rounds it should hold
        # follow from the rounds' start times.
        start = sampler.next_round_end()
        sampler.durations, sampler.unsampled_rounds = [], 0
        sampler.start()
        t0 = time.monotonic()
        wrks = [Wrk(daemon.port, seconds, gzip, os.path.join(workdir, f"wrk-{int(gzip)}.txt"))
                for gzip in (False, True)]
        # (share of the window, config text, how, valid)
        plan = [(0.15, base, "SIGHUP", True), (0.30, changed, "POST", True),
                (0.45, config_text(sim, state_file, "invalid"), "POST", False),
                (0.55, changed, "SIGHUP", True), (0.70, base, "POST", True),
                (0.85, base, "SIGHUP", True)]
        reloads = []
        for share, text, how, valid in plan:
            time.sleep(max(0.0, t0 + share * seconds - time.monotonic()))
            reloads.append(do_reload(daemon, config, text, how, valid))
        time.sleep(max(0.0, t0 + seconds - time.monotonic()))
        sampler.stop()
        end = sampler.next_round_end()
        window = end["t"] - start["t"]
        plain, gz = (w.result(60) for w in wrks)
        toggler.stop()
        # With no scrape in flight (wrk is done; a scrape's buffers are gone once it is sent):
        # comparable with the start, which precedes the first scrape.
        time.sleep(2)
        rss_kb_idle_end = proc_status(daemon.pid, "VmRSS")
        load_end = os.getloadavg()[0]
        samples = [s for s in sampler.samples if s["t"] >= start["t"]]
        durations = sampler.durations
        m = end["metrics"]
        result = {
            "connections": args.connections, "latency_ms": args.latency_ms,
            "cores": os.cpu_count(), "load_start": load_start, "load_end": load_end,
            "window": {
                "minutes": window / 60,
                "rounds_completed": int(end["rounds"] - start["rounds"]),
                # One per interval between the first and the last round's start.
                "rounds_expected": round((end["round_start"] - start["round_start"]) / INTERVAL_S),
                "rounds_sampled": len(durations),
                "rounds_unsampled": sampler.unsampled_rounds,
                "rounds_on_time": sum(1 for d in durations if d <= INTERVAL_S),
                "rounds_overrun": end["overrun"] - start["overrun"],
                "round_s_median": statistics.median(durations) if durations else 0,
                "round_s_max": max(durations) if durations else 0,
            },
            "wrk_plain": plain, "wrk_gzip": gz,
            "scrapes": plain["requests"] + gz["requests"],
            "scrape_non_2xx": plain["non_2xx"] + gz["non_2xx"],
            "scrape_socket_errors": plain["socket_errors"] + gz["socket_errors"],
            "reloads": reloads,
            "reloads_valid": sum(1 for r in reloads if r["valid"]),
            "reloads_invalid": sum(1 for r in reloads if not r["valid"]),
            "reloads_agreed": sum(1 for r in reloads if r["agreed"]),
            "purges": metric_sum(m, "hotdata_policy_actions_total", result="success")
            + metric_sum(m, "hotdata_policy_actions_total", result="failed"),
            "purges_failed": metric_sum(m, "hotdata_policy_actions_total", result="failed"),
            "suppressed": metric_sum(m, "hotdata_policy_suppressed_total"),
            "suppressed_by_reason": {l["reason"]: v for l, v in
                                     m.get("hotdata_policy_suppressed_total", [])},
            "toggles": toggler.toggles,
            "rss_kb_start": start["rss_kb"], "rss_kb_end": end["rss_kb"],
            "rss_kb_idle_end": rss_kb_idle_end,
            "rss_kb_max": max(s["rss_kb"] for s in samples),
            "fds_start": start["fds"], "fds_end": end["fds"],
            "fds_max": max(s["fds"] for s in samples),
            "cpu_s": end["cpu_s"] - start["cpu_s"],
            "cpu_cores": (end["cpu_s"] - start["cpu_s"]) / window,
            "failed_purge_details": failed_purges(daemon),
            "sampler_errors": sampler.errors,
        }
        stop_process(daemon.proc, 30)
        daemon.log.close()
        result["sigterm_exit_code"] = daemon.proc.returncode
        daemon = None
    finally:
        if toggler:
            toggler.stop()
        if daemon:
            daemon.stop()
        if sim:
            sim.stop()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    print(table(result))
    problems = (result["scrape_non_2xx"] + result["scrape_socket_errors"]
                + len(reloads) - result["reloads_agreed"] + (result["sigterm_exit_code"] != 0))
    if args.keep or problems:
        log(f"work dir kept: {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
