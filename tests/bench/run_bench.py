#!/usr/bin/env python3
"""The performance benchmark of hotdata-monitor (issue #5), one command:

    python3 tests/bench/run_bench.py [--quick] [--no-blackbox] [--output BENCHMARKS.md]

It builds the monitor, the simulator and hdm-bench-render (RelWithDebInfo, in build-bench/),
then for N = 100, 1,000 and 10,000 connections runs hotdata-simulator (HTTPS, self-signed
certificate, every health check answering after --latency-ms) and the daemon against it, and
reads from the outside:
  - CPU per health check: the daemon's threads' run time (/proc/PID/task/*/schedstat) over
    whole rounds, scrapes left out, divided by the checks it counted;
  - round time: hotdata_monitor_round_duration_seconds of each round, against the ideal
    ceil(N / concurrency) x latency;
  - resident memory: VmRSS and VmHWM from /proc/PID/status, after the rounds and the scrapes;
  - /metrics: a client's gzip scrape (request sent to last byte read, keep-alive), plus the
    server-side render and gzip from hdm-bench-render, and the stock prometheus-cpp
    serializer holding the same series;
  - detection: connections turned unhealthy in the simulator at random moments; the delay
    from that moment to the check that recorded it (unhealthy_since in /api/v1/status), from
    which moment /metrics shows it, as a share of interval + latency.
CPU per check is measured against nginx (installed if missing) serving the API's answers as
static JSON, the cheapest server; the peer, prometheus-blackbox-exporter from Debian (installed
if missing), probes the same nginx's health URL over HTTPS and over plain HTTP, its CPU per
probe read from /proc.
Everything is loopback only. Results: a Markdown section written into --output (the part
between the BEGIN/END markers is replaced) and the raw numbers as JSON beside it.
"""

import argparse
import datetime
import gzip as gzip_module
import http.client
import json
import math
import os
import platform
import random
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

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TOKEN = "bench-token-not-a-secret"
CLK_TCK = os.sysconf("SC_CLK_TCK")
BEGIN = "<!-- BEGIN run_bench.py output -->"
END = "<!-- END run_bench.py output -->"


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def wait_for(what, predicate, timeout, period=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(period)
    raise RuntimeError(f"timed out after {timeout}s waiting for {what}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def cpu_seconds_precise(pid):
    """CPU time of all the process's threads in nanoseconds resolution (schedstat), for the
    short windows of a small fleet where /proc/PID/stat's 10 ms ticks would dominate. Threads
    that already ended are not counted: the daemon keeps its threads for its lifetime."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total / 1e9


def proc_status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])  # kB
    return 0


def stop_process(proc, timeout=10):
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def parse_metrics(text):
    """{name: [(labels dict, value)]} of a text exposition."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$', line)
        if not m:
            continue
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out.setdefault(m.group(1), []).append((labels, float(m.group(3))))
    return out


class Http:
    """A keep-alive client of the daemon's HTTP server."""

    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def get(self, path, gzip=False):
        headers = {"Accept-Encoding": "gzip"} if gzip else {}
        for attempt in range(2):
            try:
                self.conn.request("GET", path, headers=headers)
                res = self.conn.getresponse()
                body = res.read()
                return res.status, res.getheader("Content-Encoding"), body
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def metrics(self):
        status, _, body = self.get("/metrics")
        if status != 200:
            raise RuntimeError(f"/metrics answered {status}")
        return parse_metrics(body.decode())

    def timed_gzip_scrape(self):
        t0 = time.perf_counter()
        status, encoding, body = self.get("/metrics", gzip=True)
        elapsed = time.perf_counter() - t0
        if status != 200 or encoding != "gzip":
            raise RuntimeError(f"gzip scrape: status {status}, Content-Encoding {encoding}")
        return elapsed, len(body), len(gzip_module.decompress(body))


def metric_sum(metrics, name, **labels):
    return sum(v for l, v in metrics.get(name, []) if all(l.get(k) == x for k, x in labels.items()))


class Simulator:
    def __init__(self, build, workdir, connections, latency_ms, tls):
        self.url_file = os.path.join(workdir, f"sim-{connections}-{int(tls)}.url")
        args = [os.path.join(build, "hotdata-simulator"), "--static", "--control-stdin",
                "--connections", str(connections), "--latency-ms", str(latency_ms),
                "--token", TOKEN, "--url-file", self.url_file]
        if tls:
            args.append("--tls")
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)
        self.lines = []
        self.cv = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        wait_for("the simulator's URL", lambda: os.path.exists(self.url_file), 60)
        with open(self.url_file) as f:
            self.url = f.read().strip()
        self.cert = None
        if tls:
            line = wait_for("the certificate line", lambda: self._find("certificate:"), 10)
            self.cert = line.split(": ", 1)[1].strip()

    def _read(self):
        for line in self.proc.stdout:
            with self.cv:
                self.lines.append(line)
                self.cv.notify_all()

    def _find(self, needle):
        with self.cv:
            return next((l for l in self.lines if needle in l), None)

    def set_unhealthy(self, conn_id):
        """Turns the connection unhealthy; returns the Unix time the simulator applied it."""
        self.proc.stdin.write(f"unhealthy {conn_id}\n")
        self.proc.stdin.flush()
        line = wait_for(f"the simulator to apply {conn_id}",
                        lambda: self._find(f"applied {conn_id} "), 10)
        return float(line.split()[2])

    def stop(self):
        stop_process(self.proc)


class Nginx:
    """nginx serving the API's GET answers as static JSON, over HTTPS and HTTP on loopback: the
    cheapest server side, for the CPU-per-check figures of the monitor and of the peer. A health
    answer is one write of headers and body, as a production API behind a proxy sends it."""

    def __init__(self, workdir, connections):
        ensure_package("nginx", "nginx")
        ensure_package("openssl", "openssl")
        self.dir = os.path.join(workdir, "nginx")
        os.makedirs(self.dir, exist_ok=True)
        # nginx's workers run as www-data: they must be able to reach list.json.
        os.chmod(workdir, 0o755)
        os.chmod(self.dir, 0o755)
        self.cert = os.path.join(self.dir, "cert.pem")
        key = os.path.join(self.dir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                        "-out", self.cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                       check=True, capture_output=True)
        with open(os.path.join(self.dir, "list.json"), "w") as f:
            json.dump({"connections": [
                {"id": f"conn_{i:04d}", "name": f"prod-pg-{i}", "source_type": "postgres"}
                for i in range(1, connections + 1)]}, f)
        self.https_port, self.http_port = free_port(), free_port()
        d = self.dir
        with open(os.path.join(d, "nginx.conf"), "w") as f:
            f.write(f"""worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
daemon off;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  keepalive_timeout 300s;
  keepalive_requests 100000000;
  client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fcgi;
  uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
  server {{
    listen 127.0.0.1:{self.https_port} ssl;
    listen 127.0.0.1:{self.http_port};
    ssl_certificate {self.cert};
    ssl_certificate_key {key};
    default_type application/json;
    location = /v1/connections {{ alias {d}/list.json; }}
    location ~ ^/v1/connections/([^/]+)/health$ {{
      return 200 '{{"connection_id":"$1","healthy":true,"latency_ms":12}}';
    }}
    location ~ ^/v1/connections/([^/]+)$ {{
      return 200 '{{"id":"$1","name":"n","source_type":"postgres","table_count":4,"synced_table_count":3}}';
    }}
  }}
}}
""")
        self.proc = subprocess.Popen(["nginx", "-c", os.path.join(d, "nginx.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def up():
            try:
                with socket.create_connection(("127.0.0.1", self.http_port), timeout=1):
                    return True
            except OSError:
                return False
        wait_for("nginx", up, 20)

    def url(self, tls):
        return (f"https://127.0.0.1:{self.https_port}" if tls
                else f"http://127.0.0.1:{self.http_port}")

    def stop(self):
        stop_process(self.proc)


class Daemon:
    def __init__(self, build, workdir, base_url, cert, interval_s, concurrency, tag):
        self.workdir = workdir
        config = os.path.join(workdir, f"config-{tag}.yaml")
        tls = f"  tls: {{ ca_file: {cert} }}\n" if cert else ""
        with open(config, "w") as f:
            f.write(
                "api:\n"
                f"  base_url: {base_url}\n"
                "  token_env: HOTDATA_API_TOKEN\n"
                "  timeout: 5s\n" + tls +
                "scheduler:\n"
                f"  interval: {interval_s}s\n"
                "  discovery_interval: 1h\n"
                f"  concurrency: {concurrency}\n"
                "server:\n"
                "  listen: \"127.0.0.1:0\"\n"
                f"state_file: {workdir}/state-{tag}.json\n"
                # A policy that matches every connection, so that the engine's work per answer
                # is part of the measurement; dry-run, the simulator is static.
                "policies:\n"
                "  - name: purge-after-outage\n"
                "    when: { event: recovered, after_failures: 3 }\n"
                "    action: { purge: connection }\n"
                "    dry_run: true\n")
        self.log_path = os.path.join(workdir, f"daemon-{tag}.log")
        env = dict(os.environ, HOTDATA_API_TOKEN=TOKEN)
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [os.path.join(build, "hotdata-monitor"), "--config", config],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)
        self.pid = self.proc.pid
        try:
            self.port = int(wait_for("the daemon's port", self._port, 30))
            self.http = Http(self.port)
            wait_for("/readyz", lambda: self.http.get("/readyz")[0] == 200, 60)
        except BaseException:
            self.stop()
            raise

    def _port(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"the daemon exited; see {self.log_path}")
        with open(self.log_path) as f:
            m = re.search(r"\(port (\d+)", f.read())
        return m and m.group(1)

    def rounds(self):
        return metric_sum(self.http.metrics(), "hotdata_monitor_rounds_total")

    def stop(self):
        stop_process(self.proc, 30)
        self.log.close()


def sample_rounds(daemon, interval_s, rounds):
    """rounds + 1 scrapes, one per round, each in the middle of the idle gap after a round:
    the daemon's CPU just before and after each, its check counter and the round's duration.
    Needs rounds shorter than the interval."""
    samples = []
    m = daemon.http.metrics()
    last_end = metric_sum(m, "hotdata_monitor_last_round_timestamp_seconds")
    duration = metric_sum(m, "hotdata_monitor_round_duration_seconds")
    mid_gap = last_end + (interval_s - duration) / 2
    while mid_gap < time.time():
        mid_gap += interval_s
    for _ in range(rounds + 1):
        time.sleep(max(0.0, mid_gap - time.time()))
        before = cpu_seconds_precise(daemon.pid)
        m = daemon.http.metrics()
        after = cpu_seconds_precise(daemon.pid)
        samples.append({
            "cpu_before": before, "cpu_after": after, "metrics": m,
            "rounds": metric_sum(m, "hotdata_monitor_rounds_total"),
            "duration": metric_sum(m, "hotdata_monitor_round_duration_seconds"),
            "checks": metric_sum(m, "hotdata_api_requests_total",
                                 operation="check_connection_health")})
        mid_gap += interval_s
    got = samples[-1]["rounds"] - samples[0]["rounds"]
    if got != rounds:
        raise RuntimeError(f"expected {rounds} rounds between the samples, saw {got}: rounds "
                           "longer than the interval?")
    return samples


def measure_daemon(build, workdir, n, latency_ms, concurrency, interval_s, rounds, scrapes,
                   detections):
    """Everything measured on the daemon at N connections over HTTPS."""
    log(f"N={n}: simulator (HTTPS, latency {latency_ms} ms) and daemon "
        f"(interval {interval_s}s, concurrency {concurrency})")
    sim = Simulator(build, workdir, n, latency_ms, tls=True)
    daemon = None
    try:
        daemon = Daemon(build, workdir, sim.url, sim.cert, interval_s, concurrency, f"{n}")
        h = daemon.http
        # The first round includes every connection's first TLS handshake: measure from the
        # end of it, over whole rounds.
        wait_for("the first round", lambda: daemon.rounds() >= 1, interval_s * 3 + 60,
                 period=0.5)
        fds0 = open_fds(daemon.pid)
        rss_start_kb = proc_status(daemon.pid, "VmRSS")
        # One scrape per round, in the idle middle of the gap between rounds, so that no scrape
        # competes with a round; the CPU the scrapes cost is left out of the window.
        samples = sample_rounds(daemon, interval_s, rounds)
        durations = [x["duration"] for x in samples[1:]]
        cpu = sum(b["cpu_before"] - a["cpu_after"] for a, b in zip(samples, samples[1:]))
        checks = samples[-1]["checks"] - samples[0]["checks"]
        m = samples[-1]["metrics"]
        failed = sum(v for l, v in m.get("hotdata_api_requests_total", [])
                     if l.get("operation") == "check_connection_health" and l.get("code") != "200")
        rss_rounds_kb = proc_status(daemon.pid, "VmRSS")

        scrape_s = []
        gzip_bytes = text_bytes = 0
        for _ in range(scrapes):
            elapsed, gzip_bytes, text_bytes = h.timed_gzip_scrape()
            scrape_s.append(elapsed)
        rss_scrapes_kb = proc_status(daemon.pid, "VmRSS")

        detection = []
        ids = random.Random(n).sample(range(1, n + 1), min(detections, n))
        flips = {}
        t_start = time.time()
        for i, idx in enumerate(ids):
            # Spread over one interval, each at a random moment of the round.
            target = t_start + (i + random.random()) * interval_s / len(ids)
            time.sleep(max(0.0, target - time.time()))
            conn_id = f"conn_{idx:04d}"
            flips[conn_id] = sim.set_unhealthy(conn_id)

        # The scheduler logs "connection NAME (ID) is unhealthy" under the same lock that
        # updates the state /metrics renders from: the log line's time is when it shows.
        def all_detected():
            with open(daemon.log_path) as f:
                found = {}
                for line in f:
                    m = re.match(r"^(\S+Z) warn(?:ing)? connection .* \((conn_\d+)\) is unhealthy", line)
                    if m and m.group(2) in flips and m.group(2) not in found:
                        found[m.group(2)] = m.group(1)
            return found if len(found) == len(flips) else None

        seen = wait_for("every flip to be detected", all_detected, interval_s * 3 + 30)
        for cid, when in seen.items():
            at = datetime.datetime.fromisoformat(when.replace("Z", "+00:00")).timestamp()
            detection.append(at - flips[cid])
        shown = h.metrics()
        hidden = [cid for cid in flips
                  if metric_sum(shown, "hotdata_connection_healthy", connection_id=cid) != 0
                  or not any(l.get("connection_id") == cid
                             for l, _ in shown.get("hotdata_connection_healthy", []))]
        if hidden:
            raise RuntimeError(f"/metrics does not show {hidden} unhealthy")
        rss_end_kb = proc_status(daemon.pid, "VmRSS")
        hwm_kb = proc_status(daemon.pid, "VmHWM")
        fds1 = open_fds(daemon.pid)
        bound = interval_s + latency_ms / 1000.0
        return {
            "connections": n,
            "latency_ms": latency_ms,
            "concurrency": concurrency,
            "interval_s": interval_s,
            "rounds_measured": len(durations),
            "checks_measured": checks,
            "checks_failed": failed,
            "cpu_seconds": cpu,
            "cpu_us_per_check": cpu / checks * 1e6 if checks else None,
            "cpu_ms_per_round": cpu / len(durations) * 1e3,
            "round_s_median": statistics.median(durations),
            "round_s_max": max(durations),
            "round_ideal_s": math.ceil(n / concurrency) * latency_ms / 1000.0,
            "rss_mb_start": rss_start_kb / 1024,
            "rss_mb_after_rounds": rss_rounds_kb / 1024,
            "rss_mb_after_scrapes": rss_scrapes_kb / 1024,
            "rss_mb_end": rss_end_kb / 1024,
            "rss_mb_peak": hwm_kb / 1024,
            "fds_start": fds0,
            "fds_end": fds1,
            "scrape_gzip_ms_median": statistics.median(scrape_s) * 1e3,
            "scrape_gzip_ms_p90": sorted(scrape_s)[int(len(scrape_s) * 0.9) - 1] * 1e3
            if len(scrape_s) >= 10 else max(scrape_s) * 1e3,
            "scrape_gzip_ms_max": max(scrape_s) * 1e3,
            "scrape_gzip_bytes": gzip_bytes,
            "scrape_text_bytes": text_bytes,
            "detection_s": sorted(detection),
            "detection_bound_s": bound,
            "detection_within_bound": sum(1 for d in detection if d <= bound),
        }
    finally:
        if daemon:
            daemon.stop()
        sim.stop()


def measure_cpu_per_check(build, workdir, nginx, n, tls, interval_s=5, concurrency=64,
                          rounds=3):
    """The daemon's CPU per health check against nginx, over whole rounds after the first."""
    daemon = Daemon(build, workdir, nginx.url(tls), nginx.cert if tls else None, interval_s,
                    concurrency, f"cpu-{n}-{'https' if tls else 'http'}")
    try:
        wait_for("the first round", lambda: daemon.rounds() >= 1, interval_s * 3 + 60,
                 period=0.5)
        samples = sample_rounds(daemon, interval_s, rounds)
        cpu = sum(b["cpu_before"] - a["cpu_after"] for a, b in zip(samples, samples[1:]))
        checks = samples[-1]["checks"] - samples[0]["checks"]
        failed = sum(v for l, v in samples[-1]["metrics"].get("hotdata_api_requests_total", [])
                     if l.get("code") != "200")
        return {"connections": n, "tls": tls, "rounds": rounds, "checks": checks,
                "failed_requests": failed, "cpu_seconds": cpu,
                "cpu_us_per_check": cpu / checks * 1e6}
    finally:
        daemon.stop()


def ensure_package(command, package):
    if shutil.which(command) or os.path.exists(f"/usr/sbin/{command}"):
        return
    log(f"installing {package} from Debian")
    subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True,
                   stdout=subprocess.DEVNULL, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    # Debian starts the packaged service; the benchmark runs its own instance.
    subprocess.run(["systemctl", "disable", "--now", package], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def ensure_blackbox():
    ensure_package("prometheus-blackbox-exporter", "prometheus-blackbox-exporter")
    return shutil.which("prometheus-blackbox-exporter")


def measure_blackbox(workdir, nginx, probes, tls):
    """blackbox_exporter's CPU per probe of one connection's health URL, served by nginx."""
    exe = ensure_blackbox()
    proc = None
    try:
        config = os.path.join(workdir, f"blackbox-{int(tls)}.yml")
        tls_config = f"      tls_config: {{ ca_file: {nginx.cert} }}\n" if tls else ""
        with open(config, "w") as f:
            f.write("modules:\n"
                    "  hotdata_health:\n"
                    "    prober: http\n"
                    "    timeout: 5s\n"
                    "    http:\n"
                    "      method: GET\n"
                    f"      headers: {{ Authorization: \"Bearer {TOKEN}\" }}\n"
                    "      valid_status_codes: [200]\n"
                    "      fail_if_body_not_matches_regexp: ['\"healthy\": *true']\n"
                    + tls_config)
        port = free_port()
        version = subprocess.run([exe, "--version"], capture_output=True, text=True)
        version = (version.stdout + version.stderr).splitlines()[0]
        proc = subprocess.Popen([exe, f"--config.file={config}",
                                 f"--web.listen-address=127.0.0.1:{port}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = Http(port)
        target = urllib.parse.quote(f"{nginx.url(tls)}/v1/connections/conn_0001/health", safe="")
        path = f"/probe?module=hotdata_health&target={target}"

        def probe_ok():
            try:
                status, _, body = client.get(path)
            except OSError:
                return False
            return status == 200 and b"probe_success 1" in body
        wait_for("blackbox_exporter's first successful probe", probe_ok, 30)
        for _ in range(50):  # warm-up
            client.get(path)
        cpu0 = cpu_seconds(proc.pid)
        ok = 0
        t0 = time.perf_counter()
        for _ in range(probes):
            status, _, body = client.get(path)
            ok += status == 200 and b"probe_success 1" in body
        wall = time.perf_counter() - t0
        cpu1 = cpu_seconds(proc.pid)
        return {"version": version, "probes": probes, "successful": ok,
                "cpu_us_per_probe": (cpu1 - cpu0) / probes * 1e6,
                "rss_mb": proc_status(proc.pid, "VmRSS") / 1024,
                "wall_ms_per_probe": wall / probes * 1e3}
    finally:
        if proc:
            stop_process(proc)


def render_bench(build, n, runs):
    exe = os.path.join(build, "tests", "hdm-bench-render")
    ours = json.loads(subprocess.run([exe, "--connections", str(n), "--runs", str(runs)],
                                     capture_output=True, text=True, check=True).stdout)
    stock = json.loads(subprocess.run([exe, "--connections", str(n), "--runs", str(max(3, runs // 4)),
                                       "--mode", "stock"],
                                      capture_output=True, text=True, check=True).stdout)
    return {"ours": ours, "stock": stock}


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short=12", "HEAD"],
                         capture_output=True, text=True).stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return {"cpu": model, "cores": os.cpu_count(), "memory_gb": round(mem_kb / 1048576, 1),
            "kernel": platform.release(), "revision": rev + ("+dirty" if dirty else ""),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "load_before": os.getloadavg()[0]}


def build(build_dir):
    log(f"building in {build_dir}")
    subprocess.run(["cmake", "-S", ROOT, "-B", build_dir, "-DCMAKE_BUILD_TYPE=RelWithDebInfo"],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", build_dir, f"-j{os.environ.get('JOBS', '2')}", "--target",
                    "hotdata-monitor", "hotdata-simulator", "hdm-bench-render"], check=True,
                   stdout=subprocess.DEVNULL)


def fmt(v, digits=1):
    return "n/a" if v is None else f"{v:.{digits}f}"


def report(args, info, results):
    s = results["scale"]
    big = s[-1]
    r10k = results["render"][-1]
    lines = [BEGIN, "",
             f"Command: `{results['command']}`  ",
             f"Machine: {info['cpu']}, {info['cores']} cores, {info['memory_gb']} GB, Linux "
             f"{info['kernel']}; load average {info['load_before']:.2f} at start  ",
             f"Date: {info['date']}; revision {info['revision']}", ""]
    bb_tls = results.get("blackbox_tls")
    bb_http = results.get("blackbox_http")
    lines += ["### Targets at 10,000 connections", "",
              "| # | Target | Measured | Peer, same run | Verdict |", "|---|---|---|---|---|"]
    cpu_row = results["cpu"][-1]
    cpu = cpu_row["cpu_us_per_check"]
    ratio = bb_tls["cpu_us_per_probe"] / cpu if bb_tls and cpu else None
    lines.append(
        f"| 1 | CPU per health check over HTTPS with keep-alive: <= 50 us and >= 20x less than "
        f"blackbox_exporter | {fmt(cpu)} us (over {cpu_row['checks']:,.0f} checks against nginx) | "
        + (f"blackbox_exporter: {fmt(bb_tls['cpu_us_per_probe'])} us per probe over HTTPS "
           f"({fmt(ratio)}x ours)" if bb_tls else "not run") + " | "
        + ("met" if cpu <= 50 and (ratio is None or ratio >= 20) else "**missed**") + " |")
    ideal = big["round_ideal_s"]
    lines.append(
        f"| 2 | Round at latency {big['latency_ms']} ms, concurrency {big['concurrency']}: <= 1.1 x "
        f"ideal {ideal:.2f} s | median {big['round_s_median']:.2f} s ({big['round_s_median'] / ideal:.3f}x), "
        f"max {big['round_s_max']:.2f} s ({big['round_s_max'] / ideal:.3f}x) over "
        f"{big['rounds_measured']} rounds | - | "
        + ("met" if big["round_s_max"] <= 1.1 * ideal else "**missed**") + " |")
    ours = r10k["ours"]
    stock = r10k["stock"]
    lines.append(
        f"| 3 | /metrics: render median < 25 ms; gzip scrape by a client < 50 ms | render "
        f"{fmt(ours['render_median_ms'])} ms median (best {fmt(ours['render_best_ms'])}), gzip "
        f"{fmt(ours['gzip_median_ms'])} ms; client gzip scrape median "
        f"{fmt(big['scrape_gzip_ms_median'])} ms, p90 {fmt(big['scrape_gzip_ms_p90'])} ms | stock "
        f"prometheus-cpp serializer, {stock['series']:,} series: {fmt(stock['render_median_ms'])} ms "
        f"({stock['render_median_ms'] / ours['render_median_ms']:.0f}x ours), peak RSS "
        f"{stock['peak_rss_kb'] / 1024:.0f} MB | "
        + ("met" if ours["render_median_ms"] < 25 and big["scrape_gzip_ms_median"] < 50
           else "**missed**") + " |")
    lines.append(
        f"| 4 | Resident memory < 64 MB | {big['rss_mb_end']:.1f} MB at the end, peak (VmHWM) "
        f"{big['rss_mb_peak']:.1f} MB | "
        + (f"blackbox_exporter: {bb_tls['rss_mb']:.1f} MB" if bb_tls else "-") + " | "
        + ("met" if big["rss_mb_peak"] < 64 else "**missed**") + " |")
    det = big["detection_s"]
    lines.append(
        f"| 5 | Detection within interval + latency ({big['detection_bound_s']:.2f} s) | "
        f"{big['detection_within_bound']} of {len(det)} within; min {min(det):.2f} s, median "
        f"{statistics.median(det):.2f} s, max {max(det):.2f} s | - | "
        + ("met" if big["detection_within_bound"] == len(det) else "**missed**") + " |")
    lines += ["", "### How the costs grow (target 6)", "",
              "| Connections | CPU per check (nginx) | CPU per round (latency 50 ms) | Round (ideal) | RSS end / peak | "
              "Render median | gzip | Client gzip scrape | Exposition (gzip) | Detection median / max |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for row, rb, c in zip(s, results["render"], results["cpu"]):
        o = rb["ours"]
        lines.append(
            f"| {row['connections']:,} | {fmt(c['cpu_us_per_check'])} us | "
            f"{fmt(row['cpu_ms_per_round'])} ms | {row['round_s_median']:.2f} s "
            f"({row['round_ideal_s']:.2f} s) | {row['rss_mb_end']:.1f} / {row['rss_mb_peak']:.1f} MB | "
            f"{fmt(o['render_median_ms'], 2)} ms | {fmt(o['gzip_median_ms'], 2)} ms | "
            f"{fmt(row['scrape_gzip_ms_median'])} ms | {o['text_bytes'] / 1e6:.2f} MB "
            f"({o['gzip_bytes'] / 1e6:.2f} MB) | {statistics.median(row['detection_s']):.2f} / "
            f"{max(row['detection_s']):.2f} s |")
    lines += ["", "### Side by side with blackbox_exporter", ""]
    if bb_tls:
        http_ours = results.get("cpu_http")
        lines += [f"{bb_tls['version']}, probing nginx's health URL of one connection "
                  f"({bb_tls['probes']} probes each, driven one at a time from a keep-alive "
                  "client; CPU of the exporter process only).", "",
                  "| | hotdata-monitor, per check | blackbox_exporter, per probe | Ratio |",
                  "|---|---|---|---|",
                  f"| HTTPS | {fmt(cpu)} us (keep-alive) | {fmt(bb_tls['cpu_us_per_probe'])} us "
                  f"(a handshake per probe) | {fmt(ratio)}x |"]
        if bb_http and http_ours:
            lines.append(f"| HTTP | {fmt(http_ours['cpu_us_per_check'])} us | "
                         f"{fmt(bb_http['cpu_us_per_probe'])} us | "
                         f"{fmt(bb_http['cpu_us_per_probe'] / http_ours['cpu_us_per_check'])}x |")
    else:
        lines.append("Not run (--no-blackbox).")
    lines += ["", f"Raw numbers: `{os.path.relpath(args.json, ROOT)}`.", "", END]
    return "\n".join(lines)


def write_report(path, section):
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n\n"
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + section + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    with open(path, "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build-bench"))
    ap.add_argument("--output", default=os.path.join(ROOT, "BENCHMARKS.md"))
    ap.add_argument("--json", default=os.path.join(ROOT, "tests", "bench", "results.json"))
    ap.add_argument("--quick", action="store_true",
                    help="N = 100 and 1,000 only, fewer rounds (a smoke run, not for the report)")
    ap.add_argument("--no-blackbox", action="store_true")
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()
    if not args.no_build:
        build(args.build_dir)
    info = machine()
    workdir = tempfile.mkdtemp(prefix="hdm-bench-")
    sizes = [(100, 2), (1000, 3)] if args.quick else [(100, 2), (1000, 3), (10000, 10)]
    results = {"command": "python3 tests/bench/run_bench.py" + (" --quick" if args.quick else ""),
               "machine": info, "cpu": [], "scale": [], "render": []}
    try:
        for i, (n, interval) in enumerate(sizes):
            largest = i == len(sizes) - 1
            log(f"N={n}: CPU per check against nginx")
            nginx = Nginx(workdir, n)
            try:
                results["cpu"].append(measure_cpu_per_check(args.build_dir, workdir, nginx, n, True))
                log(json.dumps(results["cpu"][-1]))
                if largest:
                    results["cpu_http"] = measure_cpu_per_check(args.build_dir, workdir, nginx, n,
                                                                False)
                    log(json.dumps(results["cpu_http"]))
                if largest and not args.no_blackbox:
                    probes = 300 if args.quick else 2000
                    for tls in (True, False):
                        key = "blackbox_tls" if tls else "blackbox_http"
                        results[key] = measure_blackbox(workdir, nginx, probes, tls)
                        log(json.dumps(results[key]))
            finally:
                nginx.stop()
            results["scale"].append(measure_daemon(
                args.build_dir, workdir, n, latency_ms=50, concurrency=64, interval_s=interval,
                rounds=2 if args.quick else 4, scrapes=11 if args.quick else 21,
                detections=5 if args.quick else 20))
            log(json.dumps(results["scale"][-1]))
            results["render"].append(render_bench(args.build_dir, n, 11 if args.quick else 31))
            log(json.dumps(results["render"][-1]))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    with open(args.json, "w") as f:
        json.dump(results, f, indent=1)
    section = report(args, info, results)
    write_report(args.output, section)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
