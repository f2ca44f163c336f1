"""What kill9_loop.py and soak.py share: the simulator and the daemon as processes, built on the
helpers of tests/bench/run_bench.py (imported, not copied).

The two wrappers here differ from run_bench's only where these programs need more: the
simulator takes extra flags (--log-purges) and toggles a connection both ways more than once;
the daemon runs a config file written by the caller and can be killed with SIGKILL and started
again on the same state file.
"""

import json
import os
import re
import signal
import subprocess
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
import run_bench  # noqa: E402
from run_bench import (ROOT, TOKEN, Http, metric_sum, open_fds, proc_status,  # noqa: E402,F401
                       stop_process, wait_for)

# One "policy decision: {...}" line of the daemon's log (text or journal format).
DECISION_RE = re.compile(r"policy decision: (\{.*\})\s*$")


def binaries(build_dir):
    """The monitor and the simulator of `build_dir`; exits with a hint when one is missing."""
    paths = [os.path.join(build_dir, name) for name in ("hotdata-monitor", "hotdata-simulator")]
    missing = [p for p in paths if not os.access(p, os.X_OK)]
    if missing:
        sys.exit(f"missing {', '.join(missing)}: build the targets hotdata-monitor and "
                 f"hotdata-simulator in {build_dir} first (or pass --build-dir)")
    return paths


class Simulator(run_bench.Simulator):
    """hotdata-simulator with --static --control-stdin and `extra_args`; run_bench's reader of
    its stdout lines."""

    def __init__(self, build, workdir, connections, latency_ms, tls, extra_args=()):
        self.url_file = os.path.join(workdir, "sim.url")
        args = [os.path.join(build, "hotdata-simulator"), "--static", "--control-stdin",
                "--connections", str(connections), "--latency-ms", str(latency_ms),
                "--token", TOKEN, "--url-file", self.url_file, *extra_args]
        if tls:
            args.append("--tls")
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)
        self.lines = []
        self.cv = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        try:
            wait_for("the simulator's URL", lambda: os.path.exists(self.url_file), 60)
            with open(self.url_file) as f:
                self.url = f.read().strip()
            self.cert = None
            if tls:
                line = wait_for("the certificate line", lambda: self._find("certificate:"), 10)
                self.cert = line.split(": ", 1)[1].strip()
        except BaseException:
            self.stop()
            raise

    def set_health(self, conn_id, healthy):
        """Applies "healthy ID" or "unhealthy ID" and waits for its "applied" line. Unlike
        run_bench's set_unhealthy, only lines after the command count, so that the same
        connection can be toggled again and again."""
        with self.cv:
            seen = len(self.lines)
        self.proc.stdin.write(f"{'healthy' if healthy else 'unhealthy'} {conn_id}\n")
        self.proc.stdin.flush()

        def applied():
            with self.cv:
                return any(l.startswith(f"applied {conn_id} ") for l in self.lines[seen:])
        wait_for(f"the simulator to apply {conn_id}", applied, 10)


class Monitor(run_bench.Daemon):
    """hotdata-monitor on the config file `config`, its stdout and stderr in `log_path`; ready
    when /readyz answers 200. run_bench's Daemon gives _port(), rounds() and stop()."""

    def __init__(self, build, config, log_path, extra_args=()):
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(
            [os.path.join(build, "hotdata-monitor"), "--config", config, *extra_args],
            stdout=self.log, stderr=subprocess.STDOUT, env=dict(os.environ, HOTDATA_API_TOKEN=TOKEN))
        self.pid = self.proc.pid
        try:
            self.port = int(wait_for("the daemon's port", self._port, 30))
            self.http = Http(self.port)
            wait_for("/readyz", lambda: self.http.get("/readyz")[0] == 200, 60)
        except BaseException:
            self.stop()
            raise

    def kill9(self):
        os.kill(self.pid, signal.SIGKILL)
        self.proc.wait()
        self.log.close()

    def post(self, path):
        """POST with an empty body; (status, body)."""
        self.http.conn.request("POST", path, body=b"")
        res = self.http.conn.getresponse()
        return res.status, res.read()


def decisions(log_path):
    """The audit entries of a daemon's log, in order, as dicts. A line that says "policy
    decision:" but does not parse is returned as the string itself (a torn line)."""
    out = []
    with open(log_path, errors="replace") as f:
        for line in f:
            m = DECISION_RE.search(line)
            if not m:
                continue
            try:
                out.append(json.loads(m.group(1)))
            except json.JSONDecodeError:
                out.append(line)
    return out


def entry_key(entry):
    """An audit entry as a comparable string."""
    return json.dumps(entry, sort_keys=True)
