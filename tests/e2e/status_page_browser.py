#!/usr/bin/env python3
"""The status page in a real browser (run by status_page_browser_test.sh).

Starts hotdata-simulator (12 connections, one of them named <img src=x onerror=alert(1)>, its
health steerable on stdin) and the daemon with the demo's policies (config/demo.yaml, checks
every second) behind basic auth, then opens / in Debian's headless chromium, driven over the
DevTools protocol on --remote-debugging-pipe (python3's standard library only), and asserts what
a person would see:
  - the connection table, with every connection, and the stylesheet applied (status colours);
  - a connection made unhealthy in the simulator before the page opened, marked as such in
    colour and in words;
  - the XSS name shown as text: no <img> element in the page, no dialog, no script error;
  - the API token nowhere in the page;
  - a decision of the demo's policies (waited for on the open page when none is there yet);
  - after `unhealthy conn_0010` on the simulator's stdin, without a reload, the page showing
    conn_0010 unhealthy (and the page never navigated again);
  - the filter box: typing asks the server, and the box keeps its text and focus across refreshes;
  - the browser asked for the credentials once (as a person types them into its prompt): the
    refreshes carried them without another challenge;
  - no Content-Security-Policy violation and no console error.
Every wait has a deadline; nothing sleeps to synchronise. Exits 1 with the reason on failure.

Usage: status_page_browser.py BUILD_DIR SOURCE_DIR
"""

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

XSS_NAME = "<img src=x onerror=alert(1)>"
XSS_ID = "conn_0006"
UNHEALTHY_BEFORE = "conn_0009"  # made unhealthy before the page opens
UNHEALTHY_LATER = "conn_0010"  # made unhealthy while the page is open
DEMO_POLICIES = {"purge-after-outage", "purge-slow", "purge-flapping", "refresh-orders",
                 "refresh-managed", "stale-profiles"}
USER = "prom"
PASSWORD = "status-page-e2e"
# bcrypt of PASSWORD (cost 5): the daemon's server.basic_auth.password_file holds a hash.
PASSWORD_HASH = "$2b$05$6cZIwaQwdZKHYU.mOSbRxOb6cOxqo1lusHfM/cfio2jfEO/3HnnYi"
TOKEN = "browser-e2e-token-not-a-secret"


class Failure(Exception):
    pass


def log(msg):
    print(f"[browser {time.monotonic() - START:6.1f}s] {msg}", flush=True)


START = time.monotonic()


def wait_for(what, predicate, timeout, period=0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise Failure(f"timed out after {timeout} s waiting for {what}")
        time.sleep(period)  # polling a condition with a deadline, not synchronising by time


class Cdp:
    """The DevTools protocol over --remote-debugging-pipe: JSON messages ended by a NUL byte,
    commands written to the browser's fd 3, answers and events read from its fd 4."""

    def __init__(self, write_fd, read_fd, on_event):
        self.write_fd = write_fd
        self.read_fd = read_fd
        self.on_event = on_event
        self.buffer = b""
        self.last_id = 0

    def post(self, method, params=None, session=None):
        self.last_id += 1
        message = {"id": self.last_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self.write_fd, data):]
        return self.last_id

    def call(self, method, params=None, session=None, timeout=15):
        wanted = self.post(method, params, session)
        deadline = time.monotonic() + timeout
        while True:
            message = self.read(deadline)
            if message is None:
                raise Failure(f"no answer to {method} within {timeout} s")
            if message.get("id") == wanted:
                if "error" in message:
                    raise Failure(f"{method}: {message['error']}")
                return message.get("result", {})

    def read(self, deadline):
        """The next message (events are handed to on_event first), or None at the deadline."""
        while b"\0" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([self.read_fd], [], [], remaining)
            if ready:
                chunk = os.read(self.read_fd, 1 << 16)
                if not chunk:
                    raise Failure("the browser closed its DevTools pipe (did it crash?)")
                self.buffer += chunk
        raw, _, self.buffer = self.buffer.partition(b"\0")
        message = json.loads(raw)
        if "method" in message:
            self.on_event(message)
        return message

    def pump(self, seconds):
        """Handles events for up to `seconds`."""
        deadline = time.monotonic() + seconds
        while self.read(deadline) is not None:
            pass


class Page:
    def __init__(self, cdp):
        self.cdp = cdp
        self.session = None
        self.dialogs = []
        self.console_errors = []
        self.exceptions = []
        self.log_entries = []
        self.auth_challenges = 0
        self.navigations = 0

    def on_event(self, m):
        method, params = m["method"], m.get("params", {})
        if method == "Fetch.requestPaused":
            self.cdp.post("Fetch.continueRequest", {"requestId": params["requestId"]},
                          m.get("sessionId"))
        elif method == "Fetch.authRequired":
            # What a person does at the browser's prompt: type the credentials.
            self.auth_challenges += 1
            self.cdp.post("Fetch.continueWithAuth", {
                "requestId": params["requestId"],
                "authChallengeResponse": {"response": "ProvideCredentials", "username": USER,
                                          "password": PASSWORD}}, m.get("sessionId"))
        elif method == "Page.javascriptDialogOpening":
            self.dialogs.append(params.get("message"))
            self.cdp.post("Page.handleJavaScriptDialog", {"accept": False}, m.get("sessionId"))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.console_errors.append(json.dumps(params.get("args"))[:300])
        elif method == "Runtime.exceptionThrown":
            self.exceptions.append(json.dumps(params.get("exceptionDetails"))[:500])
        elif method == "Log.entryAdded":
            entry = params.get("entry", {})
            self.log_entries.append(f"{entry.get('level')} {entry.get('source')}: "
                                    f"{entry.get('text')} ({entry.get('url', '')})")
        elif method == "Page.frameNavigated" and not params.get("frame", {}).get("parentId"):
            self.navigations += 1

    def attach(self):
        targets = wait_for("a page target", lambda: [
            t for t in self.cdp.call("Target.getTargets")["targetInfos"] if t["type"] == "page"],
            15)
        self.session = self.cdp.call("Target.attachToTarget",
                                     {"targetId": targets[0]["targetId"], "flatten": True})[
            "sessionId"]
        for method, params in [
                ("Fetch.enable", {"handleAuthRequests": True, "patterns": [{"urlPattern": "*"}]}),
                ("Page.enable", {}), ("Runtime.enable", {}), ("Log.enable", {}),
                # Recorded by the page itself: CSP violations as the browser reports them.
                ("Page.addScriptToEvaluateOnNewDocument", {"source": (
                    "window.__csp = [];"
                    "document.addEventListener('securitypolicyviolation', e => "
                    "window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));")})]:
            self.cdp.call(method, params, self.session)

    def evaluate(self, expression):
        result = self.cdp.call("Runtime.evaluate", {"expression": expression,
                                                    "returnByValue": True,
                                                    "awaitPromise": True}, self.session)
        if "exceptionDetails" in result:
            raise Failure(f"evaluating {expression!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_until(self, what, expression, timeout):
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise Failure(f"timed out after {timeout} s waiting for the page to show {what} "
                              f"(last: {value!r})")
            self.cdp.pump(0.2)  # handles events meanwhile; the condition is polled again


# JavaScript helpers evaluated in the page.
ROW = "document.querySelector('table.conns tr[data-id=\"%s\"]')"
ROW_STATUS = f"(r => r && r.dataset.status + '|' + r.querySelector('.st').textContent)({ROW})"


def main():
    build, src = (os.path.abspath(a) for a in sys.argv[1:3])
    chromium = shutil.which("chromium")
    if not chromium:
        raise Failure("chromium is not installed (Debian package chromium; "
                      "scripts/install-deps.sh --test installs it)")
    work = tempfile.mkdtemp(prefix="hdm-browser-")
    procs = []

    def stop_all(*_):
        raise SystemExit(1)

    signal.signal(signal.SIGTERM, stop_all)
    try:
        run(build, src, chromium, work, procs)
    finally:
        for p, group in reversed(procs):
            try:
                os.killpg(p.pid, signal.SIGTERM) if group else p.terminate()
            except ProcessLookupError:
                pass
        for p, group in reversed(procs):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                print(f"note: {p.args[0]} (pid {p.pid}) did not end within 10 s of SIGTERM: "
                      "killed", file=sys.stderr)
                os.killpg(p.pid, signal.SIGKILL) if group else p.kill()
                p.wait()
        shutil.rmtree(work, ignore_errors=True)


def tail(path, n=30):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def run(build, src, chromium, work, procs):
    # --- the simulated workspace and the daemon ---------------------------------------------
    sim_log = open(f"{work}/sim.log", "w")
    sim = subprocess.Popen(
        [f"{build}/hotdata-simulator", "--connections", "12", "--token", TOKEN,
         "--url-file", f"{work}/url", "--control-stdin", "--name", f"{XSS_ID}={XSS_NAME}"],
        stdin=subprocess.PIPE, stdout=sim_log, stderr=subprocess.STDOUT, text=True)
    procs.append((sim, False))
    wait_for("the simulator's URL", lambda: os.path.exists(f"{work}/url"), 10)
    base_url = open(f"{work}/url").read().strip()

    def simulator(command):
        sim.stdin.write(command + "\n")
        sim.stdin.flush()
        wait_for(f"the simulator to apply '{command}'",
                 lambda: f"applied {command.split()[1]} " in tail(f"{work}/sim.log", 200), 10)

    with open(f"{src}/config/demo.yaml") as f:
        config = f.read()
    config = (config.replace("@BASE_URL@", base_url)
              .replace("@STATE_FILE@", f"{work}/state.json")
              .replace('listen: "127.0.0.1:9977"',
                       f'listen: "127.0.0.1:0"\n  basic_auth: {{ username: {USER}, '
                       f'password_file: {work}/password }}')
              .replace("interval: 5s", "interval: 1s"))
    if "password_file" not in config or "interval: 1s" not in config:
        raise Failure("config/demo.yaml changed: its server.listen or scheduler.interval line "
                      "is not where this test expects it")
    with open(f"{work}/config.yaml", "w") as f:
        f.write(config)
    with open(f"{work}/password", "w") as f:
        f.write(PASSWORD_HASH + "\n")
    daemon_log = open(f"{work}/daemon.log", "w")
    daemon = subprocess.Popen([f"{build}/hotdata-monitor", "--config", f"{work}/config.yaml"],
                              env={**os.environ, "HOTDATA_API_TOKEN": TOKEN},
                              stdout=daemon_log, stderr=subprocess.STDOUT)
    procs.append((daemon, False))

    def port():
        for line in tail(f"{work}/daemon.log", 200).splitlines():
            if "listening on" in line and "(port " in line:
                return line.split("(port ")[1].split(",")[0].split(")")[0]
        if daemon.poll() is not None:
            raise Failure("the daemon exited:\n" + tail(f"{work}/daemon.log"))
        return None

    url = f"http://127.0.0.1:{wait_for('the daemon to listen', port, 15)}"
    auth = urllib.request.HTTPBasicAuthHandler()
    auth.add_password("hotdata-monitor", url, USER, PASSWORD)
    opener = urllib.request.build_opener(auth)

    def connection_status(cid):
        with opener.open(f"{url}/api/v1/status", timeout=5) as r:
            for c in json.load(r)["connections"]:
                if c["id"] == cid:
                    return c["healthy"]
        return None

    simulator(f"unhealthy {UNHEALTHY_BEFORE}")
    wait_for(f"/api/v1/status to show {UNHEALTHY_BEFORE} unhealthy",
             lambda: connection_status(UNHEALTHY_BEFORE) is False, 20)
    wait_for("every connection to have answered", lambda: all(
        c["healthy"] is not None for c in json.load(opener.open(f"{url}/api/v1/status",
                                                                 timeout=5))["connections"]), 20)
    log(f"daemon at {url}, {UNHEALTHY_BEFORE} unhealthy")

    # --- the browser --------------------------------------------------------------------------
    to_browser_r, to_browser_w = os.pipe()
    from_browser_r, from_browser_w = os.pipe()
    # Chromium is no program of ours: the sanitizer settings of an ASan run are not for it.
    env = {k: v for k, v in os.environ.items()
           if not k.endswith("SAN_OPTIONS") and k != "LD_PRELOAD"}
    args = [chromium, "--headless", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
            "--disable-extensions", "--disable-background-networking", "--disable-sync",
            "--disable-component-update", "--disable-dev-shm-usage", "--window-size=1280,900",
            f"--user-data-dir={work}/chromium", "--remote-debugging-pipe", "about:blank"]
    if os.geteuid() == 0:
        args.insert(1, "--no-sandbox")  # chromium's sandbox refuses to run as root
    browser_log = open(f"{work}/chromium.log", "w")
    browser = subprocess.Popen(
        ["bash", "-c", f'exec "$@" 3<&{to_browser_r} 4>&{from_browser_w}', "chromium", *args],
        pass_fds=(to_browser_r, from_browser_w), stdin=subprocess.DEVNULL, stdout=browser_log,
        stderr=subprocess.STDOUT, env=env, start_new_session=True)
    procs.append((browser, True))
    os.close(to_browser_r)
    os.close(from_browser_w)
    page = None
    try:
        page = Page(None)
        cdp = Cdp(to_browser_w, from_browser_r, page.on_event)
        page.cdp = cdp
        page.attach()
        version = cdp.call("Browser.getVersion")["product"]
        log(f"{version} attached")
        check_page(page, url, simulator)
        cdp.post("Browser.close")  # the way out that leaves no renderer behind
        try:
            browser.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass  # killed with the rest, below
    except Failure as e:
        raise Failure(f"{e}\n--- chromium (last lines):\n{tail(f'{work}/chromium.log', 15)}"
                      f"--- daemon (last lines):\n{tail(f'{work}/daemon.log', 15)}"
                      + (f"--- page events: dialogs {page.dialogs}, exceptions {page.exceptions}, "
                         f"console errors {page.console_errors}, log {page.log_entries}"
                         if page else ""))


def check_page(page, url, simulator):
    page.cdp.call("Page.navigate", {"url": url + "/"}, page.session)
    page.wait_until("the connection table", "document.readyState === 'complete' && "
                    "document.querySelectorAll('table.conns tbody tr').length", 20)
    rows = page.evaluate("document.querySelectorAll('table.conns tbody tr').length")
    if rows != 12:
        raise Failure(f"the table lists {rows} connections, expected 12")
    title = page.evaluate("document.title")
    if title != "hotdata-monitor \u00b7 ws_demo":
        raise Failure(f"unexpected title {title!r}")
    page.evaluate("window.__sameDocument = 'yes'")  # gone if the page reloads
    log("the page shows the connection table (12 rows)")

    # An unhealthy connection, marked in words and in colour (the stylesheet applied under CSP).
    status = page.evaluate(ROW_STATUS % UNHEALTHY_BEFORE)
    if status != "unhealthy|\u2717 unhealthy":
        raise Failure(f"{UNHEALTHY_BEFORE} shows {status!r}, expected unhealthy")
    colour = page.evaluate(f"getComputedStyle({ROW % UNHEALTHY_BEFORE}.querySelector('.st')).color")
    if colour != "rgb(179, 38, 30)":
        raise Failure(f"the unhealthy status is coloured {colour!r}: is /status.css applied?")
    first = page.evaluate("document.querySelector('table.conns tbody tr').dataset.status")
    if first != "unhealthy":
        raise Failure(f"the first row is {first!r}: unhealthy connections must come first")
    log(f"{UNHEALTHY_BEFORE} is marked unhealthy (words and colour), unhealthy rows first")

    # The connection named like markup is text, and nothing ran.
    shown = page.evaluate(f"{ROW % XSS_ID}.cells[0].textContent")
    if shown != XSS_NAME:
        raise Failure(f"{XSS_ID}'s name shows as {shown!r}, expected the text {XSS_NAME!r}")
    images = page.evaluate("document.querySelectorAll('img, [onerror]').length")
    if images:
        raise Failure(f"{images} <img>/onerror elements in the page: the name was not escaped")
    log("the XSS name shows as text; no <img> element")
    if page.evaluate(f"document.documentElement.outerHTML.includes({json.dumps(TOKEN)})"):
        raise Failure("the API token is on the page")

    # A decision of the demo's policies, brought by the page's own refresh.
    policies = json.dumps(sorted(DEMO_POLICIES))
    decided = page.wait_until(
        "a decision of the demo's policies",
        f"(names => [...document.querySelectorAll('table.decisions tbody tr')]"
        f".map(r => [...r.cells].map(c => c.textContent))"
        f".find(cells => names.includes(cells[1])))({policies})", 90)
    log(f"decision shown: {decided[1]} on {decided[2]}: {decided[3]} ({decided[4][:80]})")

    # A change in the simulator reaches the open page without a reload.
    before = page.evaluate(ROW_STATUS % UNHEALTHY_LATER)
    if not before or not before.startswith("healthy"):
        raise Failure(f"{UNHEALTHY_LATER} shows {before!r} before the change, expected healthy")
    simulator(f"unhealthy {UNHEALTHY_LATER}")
    changed_at = time.monotonic()
    page.wait_until(f"{UNHEALTHY_LATER} unhealthy",
                    f"({ROW_STATUS % UNHEALTHY_LATER}) === 'unhealthy|\u2717 unhealthy'", 30)
    log(f"{UNHEALTHY_LATER} turned unhealthy on the open page "
        f"{time.monotonic() - changed_at:.1f} s after the simulator's change")
    if page.evaluate("window.__sameDocument") != "yes" or page.navigations != 1:
        raise Failure(f"the page was reloaded ({page.navigations} navigations): the refresh must "
                      "happen in place")
    note = page.evaluate("document.getElementById('refresh').textContent")
    if not note.startswith("Live: updated"):
        raise Failure(f"the refresh note says {note!r}")

    # The filter: typing asks the server; the box keeps its text and focus across refreshes.
    page.evaluate("document.getElementById('q').focus()")
    page.cdp.call("Input.insertText", {"text": "mysql"}, page.session)
    page.wait_until("only mysql connections", "(rows => rows.length > 0 && rows.every(r => "
                    "r.cells[2].textContent === 'mysql'))"
                    "([...document.querySelectorAll('table.conns tbody tr')])", 15)
    rendered = page.evaluate("document.getElementById('live').dataset.rendered")
    page.wait_until("another refresh", f"document.getElementById('live').dataset.rendered !== "
                    f"{json.dumps(rendered)}", 15)
    state = page.evaluate("[document.activeElement.id, document.getElementById('q').value, "
                          "location.search]")
    if state != ["q", "mysql", "?q=mysql"]:
        raise Failure(f"after a refresh the focus, filter text and address are {state}")
    log("the filter asked the server; text, focus and ?q= kept across a refresh")

    # Credentials: asked once (the person at the prompt); the refreshes carried them.
    if page.auth_challenges != 1:
        raise Failure(f"the browser was challenged for credentials {page.auth_challenges} times; "
                      "expected once, for the page")
    page.cdp.pump(0.5)  # events that arrived with the last answers
    violations = page.evaluate("window.__csp")
    csp_log = [e for e in page.log_entries if "Content Security Policy" in e or "Refused" in e]
    if violations or csp_log:
        raise Failure(f"CSP violations: {violations} {csp_log}")
    if page.dialogs or page.exceptions or page.console_errors:
        raise Failure(f"dialogs {page.dialogs}, exceptions {page.exceptions}, "
                      f"console errors {page.console_errors}")
    errors = [e for e in page.log_entries if e.startswith("error")]
    if errors:
        raise Failure(f"errors in the browser's log: {errors}")
    log("no CSP violation, no dialog, no script error; credentials asked once")


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        print(f"FAIL: {e}", file=sys.stderr)
        sys.exit(1)
    print(f"status_page_browser: ok ({time.monotonic() - START:.1f} s)")
