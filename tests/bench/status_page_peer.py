#!/usr/bin/env python3
"""The status page's peer (BENCHMARKS.md, issue #16): blackbox_exporter's "Recent Probes" page.

    python3 tests/bench/status_page_peer.py [--probes 10000] [--ours BUILD_DIR] [--runs 3]

blackbox_exporter's `/` is a server-rendered HTML table of its probe history, kept up to
--history.limit. With --history.limit=N and N probes done it lists N rows: the closest peer of
our `/` at N connections. This driver
  1. starts a trivial HTTP target (python's http.server, in a thread) on 127.0.0.1;
  2. starts Debian's prometheus-blackbox-exporter (installed if missing) on 127.0.0.1 with an
     http_2xx module and --history.limit=N;
  3. runs N probes, GET /probe?target=...&module=http_2xx one after another from a keep-alive
     client, every --fail-every'th to a closed port (a failed probe);
  4. times GET / on the exporter with curl (a new connection each, time_total: request to last
     byte), --requests times without and with Accept-Encoding: gzip: median, p90 (nearest rank)
     and the body bytes sent, and says whether the exporter gzips it;
  5. reads the exporter's VmRSS and VmHWM from /proc after those requests.
With --ours BUILD_DIR it also measures the daemon the same way in the same run, as BENCHMARKS.md's
"The daemon, end to end" table does: hotdata-monitor against hotdata-simulator --static
--connections N --control-stdin (plain HTTP), interval 10 s, concurrency 64, --unhealthy of the
connections made unhealthy; GET /, / gzip, /?fragment=1 gzip, /?q=<the last id> (one match); then
RSS; then (unless --no-outage) every connection made unhealthy, so that our page too lists all N,
and GET / again with and without gzip. The daemon's config is run_bench.py's (one dry-run policy).
The driver waits on the counts of a page filtered to one connection, not on /api/v1/status: at
10,000 connections that JSON is megabytes, and polling it doubled the RSS read after it.
The two are measured one after the other, never at once
(the order alternates between runs). Prints Markdown tables; with --runs > 1 the ranges are over
the runs' medians. Loopback only; python3's standard library and curl.
"""

import argparse
import gzip as gzip_module
import http.server
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run_bench as rb  # noqa: E402  (the bench's processes, clients and /proc readers)


def log(msg):
    print(f"[peer {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def p90(values):
    s = sorted(values)
    return s[max(0, -(-len(s) * 9 // 10) - 1)]  # nearest rank


def curl_get(url, gzip):
    """One GET by curl on a new connection: (seconds to last byte, body bytes received)."""
    args = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{time_total} %{size_download}"]
    if gzip:
        args += ["-H", "Accept-Encoding: gzip"]  # not --compressed: count the bytes as sent
    out = subprocess.run(args + [url], capture_output=True, text=True, check=True).stdout.split()
    if out[0] != "200":
        raise RuntimeError(f"GET {url} answered {out[0]}")
    return float(out[1]), int(out[2])


def timed(port, path, gzip, requests):
    url = f"http://127.0.0.1:{port}{path}"
    curl_get(url, gzip)  # warm-up, not counted
    samples = [curl_get(url, gzip) for _ in range(requests)]
    times = [t for t, _ in samples]
    sizes = sorted({b for _, b in samples})
    return {"path": path, "gzip": gzip, "requests": requests, "median_ms": statistics.median(times) * 1e3,
            "p90_ms": p90(times) * 1e3, "bytes": sizes[0] if len(sizes) == 1 else sizes}


class Target:
    """The probes' target: 200 and a short body for every GET, on its own thread."""

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            body = b"ok\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    def __init__(self):
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self.Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def measure_peer(workdir, probes, fail_every, requests):
    exe = rb.ensure_blackbox()
    version = subprocess.run([exe, "--version"], capture_output=True, text=True)
    version = (version.stdout + version.stderr).splitlines()[0]
    config = os.path.join(workdir, "blackbox.yml")
    with open(config, "w") as f:
        f.write("modules:\n"
                "  http_2xx:\n"
                "    prober: http\n"
                "    timeout: 5s\n"
                "    http:\n"
                "      preferred_ip_protocol: ip4\n")
    target = Target()
    closed = rb.free_port()  # nothing listens there: connection refused, a failed probe
    proc = None
    try:
        port = rb.free_port()
        proc = subprocess.Popen([exe, f"--config.file={config}",
                                 f"--web.listen-address=127.0.0.1:{port}",
                                 f"--history.limit={probes}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def healthy():
            if proc.poll() is not None:
                raise RuntimeError("blackbox_exporter exited")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return True
            except OSError:
                return False
        rb.wait_for("blackbox_exporter", healthy, 30)
        client = rb.Http(port)
        ok_path = "/probe?module=http_2xx&target=" + urllib.parse.quote(
            f"http://127.0.0.1:{target.port}/", safe="")
        bad_path = "/probe?module=http_2xx&target=" + urllib.parse.quote(
            f"http://127.0.0.1:{closed}/", safe="")
        log(f"{version}: {probes} probes, every {fail_every}th to a closed port")
        succeeded = failed = 0
        t0 = time.perf_counter()
        for i in range(1, probes + 1):
            status, _, body = client.get(bad_path if fail_every and i % fail_every == 0
                                         else ok_path)
            if status != 200:
                raise RuntimeError(f"/probe answered {status}")
            if b"probe_success 1" in body:
                succeeded += 1
            elif b"probe_success 0" in body:
                failed += 1
            else:
                raise RuntimeError("a probe's answer has no probe_success")
        probe_s = time.perf_counter() - t0
        client.conn.close()

        rss_before_kb = rb.proc_status(proc.pid, "VmRSS")
        # What / lists, and whether it is gzipped when the client allows it.
        _, encoding, page = one_get(port, "/", True)
        rows = page.count(b"<tr><td>")
        listed_failures = page.count(b"<strong>Failure</strong>")
        log(f"/ lists {rows} rows ({listed_failures} failures), Content-Encoding {encoding}, "
            f"{len(page)} bytes")
        if rows != probes or listed_failures != failed:
            raise RuntimeError(f"/ lists {rows} probes ({listed_failures} failed), not {probes} "
                               f"({failed} failed)")
        # Each probe's debug log is kept with it (what the Logs link shows): its size.
        log_bytes = [len(one_get(port, f"/logs?id={i}", False)[2])
                     for i in sorted({0, max(0, fail_every - 1)})]
        plain = timed(port, "/", False, requests)
        gz = timed(port, "/", True, requests)
        return {"version": version, "probes": probes, "succeeded": succeeded, "failed": failed,
                "probe_seconds": probe_s, "rows": rows, "listed_failures": listed_failures,
                "debug_log_bytes": log_bytes, "content_encoding_with_gzip": encoding,
                "requests": [plain, gz], "rss_mb_before": rss_before_kb / 1024,
                "rss_mb": rb.proc_status(proc.pid, "VmRSS") / 1024,
                "hwm_mb": rb.proc_status(proc.pid, "VmHWM") / 1024}
    finally:
        if proc:
            rb.stop_process(proc)
        target.stop()


def page_counts(port, probe):
    """The fleet's counts from the status page's pills (a page filtered to one connection: small,
    so that waiting costs the daemon little; /api/v1/status at 10,000 connections is megabytes
    and would weigh on the RSS measured after it)."""
    status, _, body = one_get(port, f"/?fragment=1&q={probe}", False)
    if status != 200:
        raise RuntimeError(f"/ answered {status}")
    text = body.decode()
    return {k: int(re.search(r"([\d,]+) " + k + "</span>", text).group(1).replace(",", ""))
            for k in ("unhealthy", "healthy", "unknown")}


def make_unhealthy(sim, port, probe, ids, total):
    """Turns ids unhealthy in the simulator (all commands at once), then waits until the daemon
    shows `total` connections unhealthy (a whole round at most)."""
    with sim.cv:
        applied0 = sum(1 for line in sim.lines if line.startswith("applied "))
    sim.proc.stdin.write("".join(f"unhealthy {i}\n" for i in ids))
    sim.proc.stdin.flush()

    def applied():
        with sim.cv:
            return sum(1 for line in sim.lines if line.startswith("applied ")) - applied0 >= len(ids)
    rb.wait_for("the simulator to apply the changes", applied, 60, period=0.2)
    rb.wait_for(f"the daemon to show {total} unhealthy",
                lambda: page_counts(port, probe)["unhealthy"] == total,
                60, period=0.5)


def one_get(port, path, gzip):
    client = rb.Http(port)
    try:
        return client.get(path, gzip=gzip)
    finally:
        client.conn.close()


def our_rows(port, path, gzip):
    """The rows of the connection table of a page, and the Content-Encoding it came with."""
    _, encoding, body = one_get(port, path, gzip)
    if encoding == "gzip":
        body = gzip_module.decompress(body)
    return body.count(b'<tr class="'), encoding


def measure_ours(build, workdir, connections, unhealthy, requests, outage):
    # A directory of its own: the simulator's URL file must not be an earlier run's.
    workdir = tempfile.mkdtemp(dir=workdir)
    sim = rb.Simulator(build, workdir, connections, 0, tls=False)
    daemon = None
    try:
        daemon = rb.Daemon(build, workdir, sim.url, None, 10, 64, "ours")
        port = daemon.port
        last = f"conn_{connections:04d}"
        rb.wait_for("every connection to have answered",
                    lambda: page_counts(port, last)["unknown"] == 0, 120, period=0.5)
        step = connections // unhealthy
        ids = [f"conn_{i * step:04d}" for i in range(1, unhealthy + 1)]
        make_unhealthy(sim, port, last, ids, unhealthy)
        rss_before_kb = rb.proc_status(daemon.pid, "VmRSS")
        rows, encoding = our_rows(port, "/", True)
        one, _ = our_rows(port, f"/?q={last}", False)
        log(f"ours: {connections} connections, {unhealthy} unhealthy; / lists {rows} rows, "
            f"Content-Encoding {encoding}; ?q={last} lists {one}")
        if rows < unhealthy or one != 1:
            raise RuntimeError(f"{build}'s / is not the status page this driver knows (rows "
                               f"of / {rows}, of ?q={last} {one}): a build before issue #16?")
        reqs = [timed(port, "/", False, requests), timed(port, "/", True, requests),
                timed(port, "/?fragment=1", True, requests),
                timed(port, f"/?q={last}", False, requests)]
        result = {"connections": connections, "unhealthy": unhealthy, "rows": rows,
                  "filtered_rows": one, "content_encoding_with_gzip": encoding,
                  "requests": reqs, "rss_mb_before": rss_before_kb / 1024,
                  "rss_mb": rb.proc_status(daemon.pid, "VmRSS") / 1024,
                  "hwm_mb": rb.proc_status(daemon.pid, "VmHWM") / 1024}
        if outage:
            chosen = set(ids)
            rest = [f"conn_{i:04d}" for i in range(1, connections + 1)
                    if f"conn_{i:04d}" not in chosen]
            make_unhealthy(sim, port, last, rest, connections)
            rows, _ = our_rows(port, "/", True)
            log(f"ours: all {connections} unhealthy; / lists {rows} rows")
            if rows != connections:
                raise RuntimeError(f"/ lists {rows} rows with all {connections} unhealthy")
            result["outage"] = {
                "rows": rows,
                "requests": [timed(port, "/", False, requests), timed(port, "/", True, requests)],
                "rss_mb": rb.proc_status(daemon.pid, "VmRSS") / 1024,
                "hwm_mb": rb.proc_status(daemon.pid, "VmHWM") / 1024}
        return result
    finally:
        if daemon:
            daemon.stop()
        sim.stop()


def machine(build):
    info = rb.machine()
    try:
        with open("/etc/debian_version") as f:
            info["debian"] = f.read().strip()
    except OSError:
        info["debian"] = "not Debian"
    info["compiler"] = None
    if build:
        try:
            with open(os.path.join(build, "CMakeCache.txt")) as f:
                cache = f.read()
            cxx = re.search(r"^CMAKE_CXX_COMPILER:\w+=(.*)$", cache, re.M).group(1)
            kind = re.search(r"^CMAKE_BUILD_TYPE:\w+=(.*)$", cache, re.M).group(1)
            version = subprocess.run([cxx, "--version"], capture_output=True,
                                     text=True).stdout.splitlines()[0]
            info["compiler"] = f"{version}, {kind}"
        except (OSError, AttributeError, IndexError):
            pass
    return info


# --- the report -------------------------------------------------------------------------------

def span(values, digits=1, unit=""):
    lo, hi = min(values), max(values)
    a, b = f"{lo:,.{digits}f}", f"{hi:,.{digits}f}"
    return (a if a == b else f"{a}-{b}") + unit


def bytes_cell(values):
    flat = []
    for v in values:
        flat += v if isinstance(v, list) else [v]
    lo, hi = min(flat), max(flat)
    return f"{lo:,}" if lo == hi else f"{lo:,}-{hi:,}"


def time_cell(reqs):
    return (f"{span([r['median_ms'] for r in reqs], unit=' ms')} "
            f"({span([r['p90_ms'] for r in reqs])})")


def peer_table(runs):
    first = runs[0]
    lines = [f"{first['version']}; --history.limit={first['probes']}, "
             f"{first['probes']:,} probes done ({span([r['failed'] for r in runs], 0)} failed); "
             f"`/` lists {span([r['rows'] for r in runs], 0)} rows "
             f"({span([r['listed_failures'] for r in runs], 0)} failures), each with a link to its "
             f"debug log, kept in memory ({bytes_cell([r['debug_log_bytes'] for r in runs])} "
             f"bytes each); Content-Encoding with "
             f"`Accept-Encoding: gzip`: {first['content_encoding_with_gzip'] or 'none'}.", "",
             "| request | time, median (p90) | bytes sent |", "|---|---|---|"]
    names = ["`GET /`", "`GET /` with `Accept-Encoding: gzip`"]
    for i, name in enumerate(names):
        reqs = [r["requests"][i] for r in runs]
        lines.append(f"| {name} | {time_cell(reqs)} | {bytes_cell([q['bytes'] for q in reqs])} |")
    lines += ["", f"RSS after the probes: {span([r['rss_mb_before'] for r in runs], unit=' MB')}; "
              f"after these requests: {span([r['rss_mb'] for r in runs], unit=' MB')} "
              f"(peak {span([r['hwm_mb'] for r in runs], unit=' MB')})."]
    return lines


def ours_table(runs):
    first = runs[0]
    n, u = first["connections"], first["unhealthy"]
    last = f"conn_{n:04d}"
    lines = [f"hotdata-monitor, {n:,} connections, {u:,} unhealthy; `/` lists "
             f"{span([r['rows'] for r in runs], 0)} rows; Content-Encoding with "
             f"`Accept-Encoding: gzip`: {first['content_encoding_with_gzip'] or 'none'}.", "",
             "| request | time, median (p90) | bytes sent |", "|---|---|---|"]
    names = ["`GET /`", "`GET /` with `Accept-Encoding: gzip`",
             "`GET /?fragment=1`, gzip (the script's refresh)", f"`GET /?q={last}` (one match)"]
    for i, name in enumerate(names):
        reqs = [r["requests"][i] for r in runs]
        lines.append(f"| {name} | {time_cell(reqs)} | {bytes_cell([q['bytes'] for q in reqs])} |")
    if all("outage" in r for r in runs):
        rows = span([r["outage"]["rows"] for r in runs], 0)
        for i, name in enumerate(["`GET /`", "`GET /` with `Accept-Encoding: gzip`"]):
            reqs = [r["outage"]["requests"][i] for r in runs]
            lines.append(f"| {name}, all {n:,} unhealthy ({rows} rows) | {time_cell(reqs)} | "
                         f"{bytes_cell([q['bytes'] for q in reqs])} |")
    lines += ["", "RSS before these requests: "
              f"{span([r['rss_mb_before'] for r in runs], unit=' MB')}; after them: "
              f"{span([r['rss_mb'] for r in runs], unit=' MB')} "
              f"(peak {span([r['hwm_mb'] for r in runs], unit=' MB')})"]
    if all("outage" in r for r in runs):
        lines[-1] += (f"; after the outage's: {span([r['outage']['rss_mb'] for r in runs], unit=' MB')}"
                      f" (peak {span([r['outage']['hwm_mb'] for r in runs], unit=' MB')})")
    lines[-1] += "."
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--probes", type=int, default=10000,
                    help="blackbox_exporter's probes and --history.limit; also our connections")
    ap.add_argument("--fail-every", type=int, default=10,
                    help="every K-th probe goes to a closed port (0: none)")
    ap.add_argument("--requests", type=int, default=21)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--ours", metavar="BUILD_DIR",
                    help="also measure hotdata-monitor from this build (hotdata-monitor and "
                         "hotdata-simulator built)")
    ap.add_argument("--unhealthy", type=int, default=None,
                    help="our connections made unhealthy (default 1 %%)")
    ap.add_argument("--no-outage", action="store_true",
                    help="skip our page with every connection unhealthy")
    ap.add_argument("--json", help="write the raw numbers there")
    args = ap.parse_args()
    if not shutil.which("curl"):
        sys.exit("curl is needed (Debian package curl)")
    build = os.path.abspath(args.ours) if args.ours else None
    unhealthy = args.unhealthy or max(1, args.probes // 100)
    info = machine(build)
    info["load_before"] = os.getloadavg()[0]
    workdir = tempfile.mkdtemp(prefix="hdm-peer-")
    results = {"machine": info, "argv": sys.argv[1:], "peer": [], "ours": []}
    try:
        for run in range(args.runs):
            steps = [("peer", lambda: measure_peer(workdir, args.probes, args.fail_every,
                                                   args.requests))]
            if build:
                ours = ("ours", lambda: measure_ours(build, workdir, args.probes, unhealthy,
                                                     args.requests, not args.no_outage))
                steps = steps + [ours] if run % 2 == 0 else [ours] + steps
            for name, step in steps:
                log(f"run {run + 1}/{args.runs}: {name}")
                results[name].append(step())
                log(json.dumps(results[name][-1]))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    info["load_after"] = os.getloadavg()[0]
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)

    load = [info["load_before"], info["load_after"]]
    out = [f"Command: `python3 tests/bench/status_page_peer.py {' '.join(sys.argv[1:])}`".rstrip(),
           f"Machine: {info['cpu']}, {info['cores']} cores, {info['memory_gb']} GB, Linux "
           f"{info['kernel']}, Debian {info['debian']}"
           + (f", {info['compiler']}" if info["compiler"] else "")
           + f"; load average {load[0]:.1f} at the start, {load[1]:.1f} at the end",
           f"Date: {info['date']}; revision {info['revision']}; {args.runs} run(s)"
           + ("; ranges over the runs' medians" if args.runs > 1 else ""), ""]
    out += peer_table(results["peer"])
    if results["ours"]:
        out += [""] + ours_table(results["ours"])
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
