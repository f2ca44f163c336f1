#!/usr/bin/env python3
"""Memory and time of GET /api/v1/status at 10,000 connections, for one or more builds.

For each build directory given (each holds hotdata-monitor and hotdata-simulator), in the order
given: the simulator with --connections N (all healthy), the daemon against it (plain HTTP,
interval 10 s, concurrency 64), a wait until every connection answered, then POLLS requests of
/api/v1/status one after the other. Prints the body's size, the median time to the last byte, and
the daemon's RSS (VmRSS, peak VmHWM) before and after the polls.

    python3 tests/bench/status_api_memory.py build-before build-after build-before build-after

Uses run_bench.py's Simulator and Daemon, and status_page_peer.py's page_counts to wait.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_bench as rb  # noqa: E402
import status_page_peer as sp  # noqa: E402


def measure(build, connections, polls):
    workdir = tempfile.mkdtemp()
    sim = rb.Simulator(build, workdir, connections, 0, tls=False)
    daemon = None
    try:
        daemon = rb.Daemon(build, workdir, sim.url, None, 10, 64, "ours")
        last = f"conn_{connections:04d}"
        rb.wait_for("every connection to have answered",
                    lambda: sp.page_counts(daemon.port, last)["unknown"] == 0, 120, period=0.5)
        rss0 = rb.proc_status(daemon.pid, "VmRSS") / 1024
        hwm0 = rb.proc_status(daemon.pid, "VmHWM") / 1024
        times, size = [], 0
        for _ in range(polls):
            start = time.monotonic()
            with urllib.request.urlopen(f"http://127.0.0.1:{daemon.port}/api/v1/status") as r:
                size = len(r.read())
            times.append(time.monotonic() - start)
        rss = rb.proc_status(daemon.pid, "VmRSS") / 1024
        hwm = rb.proc_status(daemon.pid, "VmHWM") / 1024
        print(f"| {build} | {size:,} | {statistics.median(times) * 1000:.1f} ms | "
              f"{rss0:.1f} MB (peak {hwm0:.1f}) | {rss:.1f} MB (peak {hwm:.1f}) |", flush=True)
    finally:
        if daemon:
            daemon.stop()
        sim.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("builds", nargs="+", help="build directories, measured in this order")
    ap.add_argument("--connections", type=int, default=10000)
    ap.add_argument("--polls", type=int, default=20)
    args = ap.parse_args()
    print(f"| build | body bytes | median of {args.polls} | RSS before | RSS after |")
    print("|---|---|---|---|---|")
    for build in args.builds:
        measure(os.path.abspath(build), args.connections, args.polls)


if __name__ == "__main__":
    main()
