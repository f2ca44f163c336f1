#!/usr/bin/env python3
"""A burst of concurrent /metrics scrapes at 10,000 connections (issue #12's before/after):

    python3 tests/bench/scrape_burst.py [--build-dir build-bench] [--burst-bin PATH]
                                        [--connections 10000] [--scrapers 300] [--bursts 3]

Runs hotdata-simulator (HTTPS, health answers 50 ms late) and the daemon of --build-dir against
it (interval 10 s, concurrency 64), waits for a whole round, then, --bursts times, resets the
daemon's peak RSS (/proc/PID/clear_refs), has hdm-bench-burst send --scrapers scrapes at once
(every second one asking for gzip, each on a connection of its own) and reads the daemon's
VmHWM afterwards. Finally it checks that rounds go on after the bursts. Prints one JSON line per
burst and a summary; --build-dir may hold an older daemon (its hdm-bench-burst may be missing:
--burst-bin names one), which is how BENCHMARKS.md compares two revisions in one session.
Loopback only.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_bench as rb  # noqa: E402  (Simulator, Daemon, wait_for, proc_status)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-dir", default=os.path.join(rb.ROOT, "build-bench"))
    ap.add_argument("--burst-bin", default=None)
    ap.add_argument("--connections", type=int, default=10000)
    ap.add_argument("--scrapers", type=int, default=300)
    ap.add_argument("--bursts", type=int, default=3)
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()
    build = os.path.abspath(args.build_dir)
    if not args.no_build:
        rb.build(build)
        subprocess.run(["cmake", "--build", build, "-j2", "--target", "hdm-bench-burst"],
                       check=True, stdout=subprocess.DEVNULL)
    burst_bin = args.burst_bin or os.path.join(build, "tests", "hdm-bench-burst")

    workdir = tempfile.mkdtemp(prefix="hdm-burst-")
    sim = rb.Simulator(build, workdir, args.connections, 50, True)
    daemon = None
    try:
        daemon = rb.Daemon(build, workdir, sim.url, sim.cert, 10, 64, "burst")
        rb.wait_for("a whole round", lambda: daemon.rounds() >= 1, 120, period=0.5)
        results = []
        for b in range(args.bursts):
            with open(f"/proc/{daemon.pid}/clear_refs", "w") as f:
                f.write("5")  # VmHWM := VmRSS
            rss_before = rb.proc_status(daemon.pid, "VmRSS") / 1024
            cpu_before = rb.cpu_seconds_precise(daemon.pid)
            out = subprocess.run([burst_bin, "--port", str(daemon.port), "--scrapers",
                                  str(args.scrapers)], capture_output=True, text=True,
                                 timeout=120)
            r = json.loads(out.stdout)
            r["daemon_cpu_s"] = round(rb.cpu_seconds_precise(daemon.pid) - cpu_before, 2)
            r["rss_before_mb"] = round(rss_before, 1)
            r["peak_rss_mb"] = round(rb.proc_status(daemon.pid, "VmHWM") / 1024, 1)
            r["rss_after_mb"] = round(rb.proc_status(daemon.pid, "VmRSS") / 1024, 1)
            print(json.dumps(r), flush=True)
            results.append(r)
            time.sleep(2)  # let the pool's threads and the allocator settle between bursts
        rounds = daemon.rounds()
        rb.wait_for("a round after the bursts", lambda: daemon.rounds() > rounds, 60,
                    period=0.5)
        walls = sorted(r["wall_ms"] / 1000 for r in results)
        peaks = sorted(r["peak_rss_mb"] for r in results)
        print(f"summary: {len(results)} bursts of {args.scrapers} scrapes at "
              f"{args.connections} connections; complete "
              f"{sum(r['complete'] for r in results)}/{args.scrapers * len(results)}; wall "
              f"{walls[0]:.2f}-{walls[-1]:.2f} s; per-scrape median "
              f"{sorted(r['median_ms'] for r in results)[len(results) // 2]:.0f} ms; daemon CPU "
              f"{sorted(r['daemon_cpu_s'] for r in results)[len(results) // 2]:.2f} s per burst;"
              f" peak RSS {peaks[0]:.1f}-{peaks[-1]:.1f} MB; rounds went on after the bursts")
    finally:
        if daemon:
            daemon.stop()
        sim.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
