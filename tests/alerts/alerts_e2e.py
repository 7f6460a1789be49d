#!/usr/bin/env python3
"""Alerts delivered end to end, every real process on 127.0.0.1.

redis-server, HAProxy through docker/entry/haproxy.sh, mcs-lb-controller and mcs-lb-metrics from
the build, two demo chat nodes (heartbeats sent by this script), Prometheus loading
metrics-bridge/alerts.yml and Alertmanager delivering to a webhook this script serves. First
`promtool check metrics` on the real page: only the original's two names may be reported. Then
one node's port dies while its heartbeat goes on: LbBackendFailingHealthChecks must reach the
webhook naming that node; the node comes back: the resolved notification must arrive. Prints
the time from the port dying to each delivery, with the intervals used. Last, a certificate file
that does not parse: no expiry series, one log line.

  python3 tests/alerts/alerts_e2e.py --build BUILD_DIR     exit 0 pass, 1 fail, 77 skipped
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "pylib"))
from mcs_lib import Proc, Redis, free_port, hap_servers, node_port, wait_for  # noqa: E402

ALERT = "LbBackendFailingHealthChecks"
SCRAPE_S, EVAL_S = 1, 1                    # Prometheus scrape and rule evaluation intervals
GROUP_WAIT_S, GROUP_INTERVAL_S = 1, 1      # Alertmanager
CHECK_INTER_MS, CHECK_FALL, CHECK_RISE = 1000, 3, 2
ALLOWED = {"lb_total_connections", "lb_backend_health_check_failures"}  # the original's names
T0 = time.monotonic()


def say(msg):
    print(f"[{time.monotonic() - T0:6.1f}s] {msg}", flush=True)


class Fail(Exception):
    pass


def find_tool(*names):
    for n in names:
        path = shutil.which(n, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
        if path:
            return path
    return None


class Webhook(BaseHTTPRequestHandler):
    """Alertmanager's webhook receiver: keeps (monotonic time, payload) of every POST."""
    got, lock = [], threading.Lock()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with Webhook.lock:
            Webhook.got.append((time.monotonic(), json.loads(body)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def delivered(status, backend):
    """Monotonic time of the first delivery of ALERT for backend with this status, or None."""
    with Webhook.lock:
        for t, p in Webhook.got:
            for a in p.get("alerts", []):
                lab = a.get("labels", {})
                if a.get("status") == status and lab.get("alertname") == ALERT and lab.get("backend") == backend:
                    return t, a
    return None


class E2E:
    def __init__(self, build):
        self.build, self.procs = build, []

    def spawn(self, name, argv, env=None):
        p = Proc(name, argv, env or self.env, self.logs, log=say)
        self.procs.append(p)
        return p

    def node(self, port=0):
        p = self.spawn(f"node{len(self.procs)}", [f"{self.build}/demo/mcs-lb-demo-node", "--listen", f"127.0.0.1:{port}"])
        port = node_port(p)
        if port is None:
            raise Fail("demo node did not listen:\n" + p.tail())
        return p, port

    def setup(self):
        self.dir = tempfile.mkdtemp(prefix="mcs-lb-alerts.")
        self.logs, run, tls = (os.path.join(self.dir, d) for d in ("logs", "run", "tls"))
        os.mkdir(self.logs)
        os.mkdir(run)
        self.stats = os.path.join(run, "stats.sock")
        subprocess.run(["sh", f"{ROOT}/tls/gen-dev-cert.sh", tls], check=True, capture_output=True)
        self.cert = os.path.join(tls, "server.cert")
        redis_port, mcs_port, self.bridge_port = free_port(), free_port(), free_port()
        self.prom_port, self.am_port, hook_port = free_port(), free_port(), free_port()
        self.env = dict(os.environ, PATH=f"{self.build}/tls:{os.environ.get('PATH', '/usr/bin:/bin')}:/usr/sbin:/sbin",
                        MCS_RUN_DIR=run, MCS_TLS_DIR=tls, MCS_PORT=str(mcs_port), MCS_BIND_ADDR="127.0.0.1",
                        REDIS_URL=f"redis://127.0.0.1:{redis_port}", MCS_POLL_MS="200",
                        MCS_CHECK_INTER_MS=str(CHECK_INTER_MS), MCS_CHECK_FALL=str(CHECK_FALL),
                        MCS_CHECK_RISE=str(CHECK_RISE), PROMETHEUS_PORT=str(self.bridge_port),
                        MCS_METRICS_BIND_ADDR="127.0.0.1", MCS_LIMIT_CONN_RATE="0", MCS_LIMIT_CONCURRENT="0")
        self.spawn("redis", ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", self.dir, "--notify-keyspace-events", "Kz"])
        if not wait_for(10, lambda: Redis(redis_port).cmd("PING") == "PONG"):
            raise Fail("redis-server not answering")
        self.redis = Redis(redis_port)
        self.haproxy = self.spawn("haproxy", ["bash", f"{ROOT}/docker/entry/haproxy.sh", "run"])
        (self.node_a, self.port_a), (self.node_b, self.port_b) = self.node(), self.node()
        self.names = [f"127.0.0.1:{self.port_a}", f"127.0.0.1:{self.port_b}"]
        self.stop_hb = threading.Event()
        threading.Thread(target=self.heartbeat, daemon=True).start()
        self.spawn("controller", [f"{self.build}/controller/mcs-lb-controller"])
        self.spawn("bridge", [f"{self.build}/metrics-bridge/mcs-lb-metrics"])
        # The webhook receiver, Alertmanager, Prometheus.
        server = HTTPServer(("127.0.0.1", hook_port), Webhook)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        am_conf = os.path.join(self.dir, "alertmanager.yml")
        with open(am_conf, "w") as f:
            f.write(f"""route:
  receiver: hook
  group_by: [alertname, backend]
  group_wait: {GROUP_WAIT_S}s
  group_interval: {GROUP_INTERVAL_S}s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: "http://127.0.0.1:{hook_port}/hook"
        send_resolved: true
""")
        self.spawn("alertmanager", [self.tools["alertmanager"], f"--config.file={am_conf}",
                                    f"--storage.path={self.dir}/am", f"--web.listen-address=127.0.0.1:{self.am_port}",
                                    "--cluster.listen-address="])
        prom_conf = os.path.join(self.dir, "prometheus.yml")
        with open(prom_conf, "w") as f:
            f.write(f"""global:
  scrape_interval: {SCRAPE_S}s
  evaluation_interval: {EVAL_S}s
rule_files:
  - {ROOT}/metrics-bridge/alerts.yml
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["127.0.0.1:{self.am_port}"]
scrape_configs:
  - job_name: mcs-lb
    static_configs:
      - targets: ["127.0.0.1:{self.bridge_port}"]
""")
        self.spawn("prometheus", [self.tools["prometheus"], f"--config.file={prom_conf}",
                                  f"--storage.tsdb.path={self.dir}/prom", f"--web.listen-address=127.0.0.1:{self.prom_port}"])
        if not wait_for(30, lambda: all(hap_servers(self.stats).get(n) == (2, 0) for n in self.names), step=0.2):
            raise Fail("the two nodes are not ready servers within 30 s")
        if not wait_for(30, lambda: self.query('up{job="mcs-lb"}') == ["1"], step=0.5):
            raise Fail("Prometheus does not scrape the bridge within 30 s")
        say(f"up in {self.dir}: nodes {', '.join(self.names)}, /metrics :{self.bridge_port}, "
            f"Prometheus :{self.prom_port}, Alertmanager :{self.am_port}, webhook :{hook_port}")

    def heartbeat(self):
        while not self.stop_hb.is_set():
            for n in self.names:
                try:
                    self.redis.cmd("ZADD", "mcs:node", int(time.time()), n)
                except OSError:
                    pass
            self.stop_hb.wait(1)  # the heartbeat period, ended at once by stop_hb

    def query(self, q):
        url = f"http://127.0.0.1:{self.prom_port}/api/v1/query?query=" + urllib.parse.quote(q)
        with urllib.request.urlopen(url, timeout=3) as r:
            return [v["value"][1] for v in json.load(r)["data"]["result"]]

    def check_metrics(self):
        """promtool check metrics on the real page: only the two names of the original."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.bridge_port}/metrics", timeout=5) as r:
            page = r.read()
        out = subprocess.run([self.tools["promtool"], "check", "metrics"], input=page, capture_output=True)
        problems = [ln for ln in (out.stdout + out.stderr).decode().splitlines() if ln.strip()]
        named = {ln.split()[0] for ln in problems}
        if named != ALLOWED or any(ln.split()[0] not in ALLOWED for ln in problems):
            raise Fail("promtool check metrics: " + "; ".join(problems))
        text = page.decode()
        end = subprocess.run(["openssl", "x509", "-in", self.cert, "-noout", "-enddate"], capture_output=True,
                             text=True, check=True).stdout.split("=", 1)[1].strip()
        want = int(time.mktime(time.strptime(end, "%b %d %H:%M:%S %Y GMT")) - time.timezone)
        if f"\nlb_tls_certificate_expiry_timestamp_seconds {want}\n" not in text:
            raise Fail(f"no lb_tls_certificate_expiry_timestamp_seconds {want} ({end})")
        m = re.search(r'\nlb_build_info\{version="([^"]+)",haproxy_version="([^"]+)",openssl_version="([^"]+)"\} 1\n', text)
        if not m:
            raise Fail("no complete lb_build_info")
        say(f"promtool check metrics: only {', '.join(sorted(named))} reported (no _total suffix); "
            f"build info {m.group(1)} / HAProxy {m.group(2)} / OpenSSL {m.group(3)}; certificate expiry {end}")

    def alert_cycle(self):
        victim = self.names[1]
        t_dead = time.monotonic()
        self.node_b.stop(5, signal.SIGKILL)
        say(f"killed the chat node {victim} (its heartbeat goes on)")
        if not wait_for(150, lambda: delivered("firing", victim), step=0.2):
            raise Fail(f"no firing {ALERT} for {victim} delivered within 150 s")
        t_fire, alert = delivered("firing", victim)
        say(f"webhook got {ALERT} firing for {alert['labels']['backend']} {t_fire - t_dead:.1f} s after the port died")
        if delivered("firing", self.names[0]):
            raise Fail(f"{ALERT} fired for the healthy node {self.names[0]}")
        t_back = time.monotonic()
        self.node_b, _ = self.node(self.port_b)
        say(f"{victim} listening again")
        if not wait_for(60, lambda: delivered("resolved", victim), step=0.2):
            raise Fail(f"no resolved {ALERT} for {victim} delivered within 60 s")
        t_res, _ = delivered("resolved", victim)
        say(f"webhook got {ALERT} resolved {t_res - t_back:.1f} s after the node came back")
        say(f"intervals: checks every {CHECK_INTER_MS} ms, fall {CHECK_FALL}, rise {CHECK_RISE}; scrape {SCRAPE_S} s, "
            f"evaluation {EVAL_S} s; rule for: 90 s; Alertmanager group_wait {GROUP_WAIT_S} s, "
            f"group_interval {GROUP_INTERVAL_S} s")

    def bad_certificate(self):
        """A certificate file that does not parse: no expiry series, one log line for three scrapes."""
        with open(self.cert, "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
        for _ in range(3):
            with urllib.request.urlopen(f"http://127.0.0.1:{self.bridge_port}/metrics", timeout=5) as r:
                if b"lb_tls_certificate_expiry_timestamp_seconds" in r.read():
                    raise Fail("expiry series still there with a certificate that does not parse")
        bridge = next(p for p in self.procs if p.name == "bridge")
        with open(bridge.log) as f:
            lines = [ln for ln in f if "server.cert" in ln and "started" not in ln]
        if len(lines) != 1:
            raise Fail(f"{len(lines)} log lines about the bad certificate, want 1: {lines}")
        say(f"certificate that does not parse: no expiry series, one log line: {lines[0].strip()}")

    def stop(self, failed):
        self.stop_hb.set() if hasattr(self, "stop_hb") else None
        for p in reversed(self.procs):
            p.stop(10)
        if failed:
            for p in self.procs:
                print(f"---- {p.name} (last lines of {p.log})\n{p.tail(20)}", flush=True)
        if not failed and not os.environ.get("MCS_IT_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    e = E2E(os.path.abspath(ap.parse_args().build))
    e.tools = {"prometheus": find_tool("prometheus"), "promtool": find_tool("promtool"),
               "alertmanager": find_tool("prometheus-alertmanager", "alertmanager"),
               "haproxy": find_tool("haproxy"), "redis-server": find_tool("redis-server"), "openssl": find_tool("openssl")}
    missing = [k for k, v in e.tools.items() if v is None]
    if missing:
        print(f"missing: {', '.join(missing)} (apt-get install prometheus prometheus-alertmanager haproxy redis-server)")
        return 1 if os.environ.get("CI") == "true" else 77
    failed = True
    try:
        e.setup()
        e.check_metrics()
        e.alert_cycle()
        e.bad_certificate()
        failed = False
    except Fail as err:
        say(f"FAIL: {err}")
    finally:
        e.stop(failed)
    say("PASS" if not failed else "FAILED")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
