#!/usr/bin/env python3
"""kill -9 at random moments while policies fire (issue #7), one command:

    python3 tests/reliability/kill9_loop.py --iterations N [--build-dir build] [--json FILE]

Needs hotdata-monitor and hotdata-simulator built in --build-dir. Runs the simulator (HTTPS,
--static, --log-purges: it logs every purge it answers) and the daemon with three policies that
fire all the time (a schedule every second, and unhealthy / recovered policies fed by connections
that a thread turns unhealthy and healthy through the simulator's control stdin), cooldowns of a
few seconds and a budget. N times: kill the daemon with SIGKILL, at a random moment or a few ms
after the simulator answered a purge (inside a batch: after the write-ahead save, before the save
that follows the batch), and start it again on the same state file. Then one last run, stopped
with SIGTERM. Checks, each failure a violation:
  state      after each kill the state file parses, has version 1 and a well-formed policy
             section, and exists if any purge was sent; after each restart the daemon logged no
             "state file:" problem, set no state.json.corrupt-* aside, and /api/v1/status shows
             every cooldown of the file that has more than a second left; SIGTERM exits 0;
  write-ahead  every purge whose cooldown had not ended at the kill is in the state file's
             cooldowns, until at least its answer + cooldown - slack;
  cooldown   across all runs, no target was purged twice within its policy's cooldown - slack
             (slack: --slack-ms, for a purge queued behind others of its batch);
  budget     no hour holds more purges than max_purges_per_hour (the budget is set so that it
             runs out about 3/4 into the run, and must stay spent across the kills after);
  audit      "acknowledged" is what the daemon made durable or reported: its audit trail is the
             journal (stderr, flushed per line) and the state file's audit section, which
             /api/v1/actions serves (an entry in flight at a kill comes back as "unknown"). Every entry
             that /api/v1/actions served before a kill is in the journal (of that run or an
             earlier one); every journal line is whole JSON (only the last line of a killed run
             may be torn); every purge the simulator answered has its success/failed entry in
             the journal of its run, except at most one per kill (the purge in flight, whose
             outcome the kill loses), and every success/failed entry has its purge.
Loopback only. Exit 0 when nothing was violated.
"""

import argparse
import collections
import datetime
import http.client
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import support  # noqa: E402
from support import Http, stop_process, wait_for  # noqa: E402

CONNECTIONS = 16
# The source types the policies match: not "managed" (its purge answers 400) nor "iceberg" (the
# simulator's default-catalog connection answers 409): a permanent mark is not what this tests.
SOURCE_TYPES = ["postgres", "mysql", "snowflake", "bigquery", "duckdb", "ducklake"]
# policy -> (what it purges, cooldown in seconds). One policy per kind of target, so that the
# simulator's log tells the policy of each purge.
POLICIES = {
    "refresh-orders": (("public", "orders"), 3.0),
    "purge-on-outage": (("public", "customers"), 4.0),
    "purge-after-outage": (None, 4.0),
}
MAX_UNHEALTHY = 3  # of 16: far from the outage pause's 0.5
PURGES_PER_S = 3  # about, as measured (16 connections): sets the default budget


def log(msg):
    print(f"[kill9 {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def write_config(path, base_url, cert, state_file, budget):
    match = f"match: {{ source_type: [{', '.join(SOURCE_TYPES)}] }}"
    with open(path, "w") as f:
        f.write(
            "api:\n"
            f"  base_url: {base_url}\n"
            "  token_env: HOTDATA_API_TOKEN\n"
            "  timeout: 2s\n"
            f"  tls: {{ ca_file: {cert} }}\n"
            "scheduler:\n"
            "  interval: 1s\n"
            "  discovery_interval: 1h\n"
            "  concurrency: 8\n"
            "server:\n"
            "  listen: \"127.0.0.1:0\"\n"
            f"state_file: {state_file}\n"
            "safety:\n"
            f"  max_purges_per_hour: {budget}\n"
            "  pause_when_unhealthy_fraction_above: 0.5\n"
            "policies:\n"
            "  - name: refresh-orders\n"
            f"    {match}\n"
            "    when: { event: schedule, every: 1s }\n"
            "    action: { purge: table, tables: [public.orders] }\n"
            f"    cooldown: {POLICIES['refresh-orders'][1] * 1000:.0f}ms\n"
            "  - name: purge-on-outage\n"
            f"    {match}\n"
            "    when: { event: unhealthy, after_failures: 1 }\n"
            "    action: { purge: table, tables: [public.customers] }\n"
            f"    cooldown: {POLICIES['purge-on-outage'][1] * 1000:.0f}ms\n"
            "  - name: purge-after-outage\n"
            f"    {match}\n"
            "    when: { event: recovered, after_failures: 1 }\n"
            "    action: { purge: connection }\n"
            f"    cooldown: {POLICIES['purge-after-outage'][1] * 1000:.0f}ms\n")


def policy_of(target):
    """The policy that purges `target` (connection_id, schema, table)."""
    for name, (table, _) in POLICIES.items():
        if (table is None and not target[2]) or (table and target[1:] == table):
            return name
    raise ValueError(f"no policy purges {target}")


def target_of_path(path):
    """(connection_id, schema, table) of a purge's raw path; schema and table "" for a
    connection purge."""
    parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/")]
    if len(parts) == 4:  # v1/connections/ID/cache
        return (parts[2], "", "")
    return (parts[2], parts[4], parts[5])  # v1/connections/ID/tables/SCHEMA/TABLE/cache


def target_of_entry(entry):
    return (entry["connection_id"], entry.get("schema", ""), entry.get("table", ""))


def read_purges(path):
    """[(unix seconds, status, target)] of the simulator's purge log, oldest first."""
    out = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                ms, status, raw = line.split()
                out.append((int(ms) / 1000, int(status), target_of_path(raw)))
    return sorted(out)


class Toggler:
    """Turns random matched connections unhealthy for 1.2-3 s each (at most MAX_UNHEALTHY at
    once), through the simulator's control stdin, until stopped: the unhealthy and recovered
    policies fire on every episode."""

    def __init__(self, sim, rng):
        self.sim = sim
        self.rng = rng
        # conn_NNNN whose source type the policies match (the kinds cycle every 12).
        kinds = ["postgres", "mysql", "snowflake", "bigquery", "managed", "duckdb", "iceberg",
                 "ducklake", "postgres", "mysql", "snowflake", "bigquery"]
        self.ids = [f"conn_{i:04d}" for i in range(1, CONNECTIONS + 1)
                    if kinds[(i - 1) % 12] in SOURCE_TYPES]
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        healthy_again = {}  # id -> when
        while not self.stop_event.wait(0.2):
            now = time.monotonic()
            for cid, when in list(healthy_again.items()):
                if when <= now:
                    self.sim.set_health(cid, True)
                    del healthy_again[cid]
            if len(healthy_again) < MAX_UNHEALTHY and self.rng.random() < 0.5:
                cid = self.rng.choice([c for c in self.ids if c not in healthy_again])
                self.sim.set_health(cid, False)
                healthy_again[cid] = now + self.rng.uniform(1.2, 3.0)

    def stop(self):
        self.stop_event.set()
        self.thread.join()


class ActionsPoller:
    """Polls GET /api/v1/actions every 100 ms until stopped: every entry seen was reported
    ("acknowledged") by the daemon. A poll cut short by the kill is ignored."""

    def __init__(self, port):
        self.http = Http(port)
        self.seen = set()
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop_event.is_set():
            try:
                status, _, body = self.http.get("/api/v1/actions")
            except (OSError, http.client.HTTPException):
                return  # killed
            if status == 200:
                self.seen.update(support.entry_key(e) for e in json.loads(body)["actions"])
            self.stop_event.wait(0.1)

    def stop(self):
        self.stop_event.set()
        self.thread.join(5)


class Run:
    """One life of the daemon: [start, end] in Unix seconds, its log, what it acknowledged."""

    def __init__(self, index, start, log_path):
        self.index = index
        self.start = start
        self.end = None
        self.log_path = log_path
        self.acknowledged = set()
        self.killed = False


class Checker:
    def __init__(self, args, workdir, budget):
        self.args = args
        self.workdir = workdir
        self.state_file = os.path.join(workdir, "state.json")
        self.purge_log = os.path.join(workdir, "purges.log")
        self.budget = budget
        self.slack = args.slack_ms / 1000
        self.violations = []
        self.torn_last_lines = 0
        self.file_cooldowns = {}  # (policy, target) -> until, as the last kill left the file
        self.cooldowns_reloaded = 0

    def violate(self, kind, detail):
        self.violations.append({"kind": kind, "detail": detail})
        log(f"VIOLATION {kind}: {detail}")

    def after_kill(self, run):
        """The state file as the kill left it, and the cooldowns of recent purges in it."""
        purges = [p for p in read_purges(self.purge_log) if p[0] <= run.end]
        self.file_cooldowns = {}
        if not os.path.exists(self.state_file):
            if purges:
                self.violate("state", f"run {run.index}: no state file after {len(purges)} purges")
            return
        try:
            with open(self.state_file) as f:
                doc = json.load(f)
            if doc.get("version") != 1 or not isinstance(doc.get("saved_at"), str):
                raise ValueError("no version 1 envelope")
            policy = doc.get("policy", {})
            for key in ("cooldowns", "budget_spends_ms", "episodes", "retries", "permanent"):
                if not isinstance(policy.get(key, []), list):
                    raise ValueError(f"policy.{key} is not a list")
        except (OSError, ValueError) as e:  # json.JSONDecodeError is a ValueError
            self.violate("state", f"run {run.index}: state file unusable after the kill: {e}")
            return
        cooldowns = {}
        for c in policy.get("cooldowns", []):
            key = (c["policy"], (c["connection_id"], c.get("schema", ""), c.get("table", "")))
            cooldowns[key] = c["until_ms"] / 1000
        self.file_cooldowns = cooldowns
        for at, status, target in purges:
            name = policy_of(target)
            due = at + POLICIES[name][1] - self.slack
            if due <= run.end:
                continue  # ended before the kill: pruned
            until = cooldowns.get((name, target))
            if until is None or until < due:
                self.violate("write-ahead", f"run {run.index}: purge of {target} answered at "
                             f"{at:.3f} ({status}) by {name}: state file cooldown {until}, "
                             f"expected >= {due:.3f}")

    def after_start(self, run, daemon):
        """The daemon took the state file: no problem logged, nothing set aside, and every
        cooldown of the file that has more than a second left shows in /api/v1/status."""
        with open(run.log_path) as f:
            problems = [l.strip() for l in f if "state file:" in l]
        if problems:
            self.violate("state", f"run {run.index}: the daemon did not accept the state file: "
                         f"{problems[0]}")
        corrupt = [n for n in os.listdir(self.workdir) if ".corrupt-" in n]
        if corrupt:
            self.violate("state", f"run {run.index}: set aside {corrupt}")
        status, _, body = daemon.http.get("/api/v1/status")
        shown = {}  # (policy, connection_id) -> cooldown_until, Unix seconds
        for c in json.loads(body)["connections"] if status == 200 else []:
            for p in c.get("policies", []):
                if p["cooldown_until"]:
                    shown[(p["policy"], c["id"])] = datetime.datetime.fromisoformat(
                        p["cooldown_until"].replace("Z", "+00:00")).timestamp()
        for (name, target), until in self.file_cooldowns.items():
            if until < time.time() + 1:
                continue
            self.cooldowns_reloaded += 1
            # Shown to the second (truncated), the latest of the connection's targets.
            if shown.get((name, target[0]), 0) < int(until):
                self.violate("state", f"run {run.index}: cooldown of {name} on {target} until "
                             f"{until:.3f} in the state file, /api/v1/status shows "
                             f"{shown.get((name, target[0]))}")

    def audit(self, runs):
        """Returns the number of purges whose outcome a kill lost."""
        purges = read_purges(self.purge_log)
        lost = 0
        journaled = set()  # this run's and the earlier runs': a daemon may show those again
        for run in runs:
            journal = support.decisions(run.log_path)
            torn = [i for i, e in enumerate(journal) if isinstance(e, str)]
            if torn and (not run.killed or torn != [len(journal) - 1]):
                self.violate("audit", f"run {run.index}: torn journal lines {torn}")
            self.torn_last_lines += len(torn)
            journal = [e for e in journal if isinstance(e, dict)]
            journaled.update(support.entry_key(e) for e in journal)
            missing = run.acknowledged - journaled
            if missing:
                self.violate("audit", f"run {run.index}: {len(missing)} entries served by "
                             f"/api/v1/actions are not in the journal, e.g. {next(iter(missing))}")
            sent = collections.Counter(t for at, _, t in purges if run.start <= at <= run.end)
            audited = collections.Counter(target_of_entry(e) for e in journal
                                          if e["outcome"] in ("success", "failed"))
            unaccounted = sum((sent - audited).values())
            phantom = audited - sent
            if phantom:
                self.violate("audit", f"run {run.index}: audited purges the simulator never "
                             f"answered: {dict(phantom)}")
            if unaccounted > (1 if run.killed else 0):
                self.violate("audit", f"run {run.index}: {unaccounted} purges without an audit "
                             f"entry (at most {1 if run.killed else 0} expected)")
            lost += unaccounted
        return lost

    def cooldowns_and_budget(self):
        """Returns the smallest gap between two purges of one target minus its cooldown."""
        purges = read_purges(self.purge_log)
        last = {}
        margin = None
        for at, _, target in purges:
            cooldown = POLICIES[policy_of(target)][1]
            if target in last:
                gap = at - last[target]
                margin = gap - cooldown if margin is None else min(margin, gap - cooldown)
                if gap < cooldown - self.slack:
                    self.violate("cooldown", f"{target} purged at {last[target]:.3f} and again "
                                 f"at {at:.3f}: {gap:.3f} s apart, cooldown {cooldown} s")
            last[target] = at
        times = [at for at, _, _ in purges]
        j = 0
        for i, at in enumerate(times):
            while times[j] <= at - 3600:
                j += 1
            if i - j + 1 > self.budget:
                self.violate("budget", f"{i - j + 1} purges in the hour up to {at:.3f}, budget "
                             f"{self.budget}")
                break
        return margin


def kill_moment(args, rng, purge_log, started):
    """Sleeps until the moment to kill and returns its kind. A run lasts a random time in
    [min_run, max_run], or with probability long_share in [5.5, 8] s: long enough for the
    daemon's first fleet poll (5 s after start), before which schedules do not fire. Half the
    kills come at that random moment, half 0-20 ms after the first purge the simulator answers
    in the last 2 s before it (or at it, when none comes)."""
    if rng.random() < args.long_share:
        length = rng.uniform(5.5, 8)
    else:
        length = rng.uniform(args.min_run, args.max_run)
    if rng.random() < 0.5:
        time.sleep(max(0.0, started + length - time.monotonic()))
        return "random"
    time.sleep(max(0.0, started + max(args.min_run, length - 2) - time.monotonic()))
    size = os.path.getsize(purge_log) if os.path.exists(purge_log) else 0
    while time.monotonic() < started + length:
        if os.path.exists(purge_log) and os.path.getsize(purge_log) > size:
            time.sleep(rng.uniform(0, 0.02))
            return "after-purge"
        time.sleep(0.002)
    return "random"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iterations", type=int, default=10, help="kills (default 10)")
    ap.add_argument("--build-dir", default=os.path.join(support.ROOT, "build"))
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: time)")
    ap.add_argument("--min-run", type=float, default=0.3, help="seconds of a run before a kill")
    ap.add_argument("--max-run", type=float, default=3.0)
    ap.add_argument("--long-share", type=float, default=0.3,
                    help="share of runs of 5.5-8 s, in which schedules fire (default 0.3)")
    ap.add_argument("--slack-ms", type=int, default=250)
    ap.add_argument("--budget", type=int, default=None,
                    help="max_purges_per_hour (default: runs out about 3/4 into the run)")
    ap.add_argument("--json", help="write the figures and violations to this file")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else int(time.time())
    rng = random.Random(seed)
    build = os.path.abspath(args.build_dir)
    support.binaries(build)
    # PURGES_PER_S over the mean run's length.
    mean_run = (1 - args.long_share) * (args.min_run + args.max_run) / 2 + args.long_share * 6.75
    budget = args.budget or max(20, int(0.75 * PURGES_PER_S * args.iterations * mean_run))
    workdir = tempfile.mkdtemp(prefix="hdm-kill9-")
    checker = Checker(args, workdir, budget)
    log(f"seed {seed}, {args.iterations} iterations, budget {budget}/h, work dir {workdir}")
    sim = support.Simulator(build, workdir, CONNECTIONS, latency_ms=20, tls=True,
                            extra_args=["--log-purges", checker.purge_log])
    config = os.path.join(workdir, "config.yaml")
    write_config(config, sim.url, sim.cert, checker.state_file, budget)
    toggler = Toggler(sim, rng)
    runs = []
    moments = collections.Counter()
    t0 = time.monotonic()
    exit_code = None
    daemon = None
    try:
        for i in range(args.iterations + 1):
            run = Run(i, time.time(), os.path.join(workdir, f"daemon-{i}.log"))
            runs.append(run)
            daemon = support.Monitor(build, config, run.log_path)
            started = time.monotonic()
            checker.after_start(run, daemon)
            poller = ActionsPoller(daemon.port)
            if i == args.iterations:
                # The last run ends with SIGTERM after a while: a clean stop saves and exits 0.
                time.sleep(args.max_run)
                poller.stop()
                run.acknowledged = set(poller.seen)
                stop_process(daemon.proc, 30)
                daemon.log.close()
                exit_code = daemon.proc.returncode
                run.end = time.time()
                if exit_code != 0:
                    checker.violate("state", f"SIGTERM: exit code {exit_code}")
                break
            moments[kill_moment(args, rng, checker.purge_log, started)] += 1
            daemon.kill9()
            run.end = time.time()
            run.killed = True
            poller.stop()
            run.acknowledged = set(poller.seen)
            checker.after_kill(run)
            if (i + 1) % 10 == 0:
                log(f"{i + 1} kills, {len(read_purges(checker.purge_log))} purges, "
                    f"{len(checker.violations)} violations")
    finally:
        if daemon and daemon.proc.poll() is None:  # an exception left it running
            daemon.stop()
        toggler.stop()
        sim.stop()
    lost = checker.audit(runs)
    margin = checker.cooldowns_and_budget()
    purges = read_purges(checker.purge_log)
    journal_entries = sum(len(support.decisions(r.log_path)) for r in runs)
    suppressed_budget = sum(1 for r in runs for e in support.decisions(r.log_path)
                            if isinstance(e, dict) and e.get("reason") == "budget")
    result = {
        "seed": seed, "iterations": args.iterations, "kills": dict(moments),
        "wall_seconds": round(time.monotonic() - t0, 1), "budget_per_hour": budget,
        "purges": len(purges),
        "purges_by_status": dict(collections.Counter(str(s) for _, s, _ in purges)),
        "journal_entries": journal_entries,
        "acknowledged_by_api": sum(len(r.acknowledged) for r in runs),
        "suppressed_by_budget": suppressed_budget,
        "cooldowns_checked_after_restart": checker.cooldowns_reloaded,
        "outcomes_lost_to_kill": lost,
        "torn_last_lines": checker.torn_last_lines,
        "min_gap_minus_cooldown_s": None if margin is None else round(margin, 3),
        "sigterm_exit_code": exit_code,
        "violations": checker.violations,
        "load_average": os.getloadavg(),
    }
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    log(json.dumps({k: v for k, v in result.items() if k != "violations"}))
    if args.keep or checker.violations:
        log(f"work dir kept: {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"kill9_loop: {args.iterations} kills, {len(purges)} purges, "
          f"{len(checker.violations)} violations")
    return 1 if checker.violations else 0


if __name__ == "__main__":
    sys.exit(main())
