#!/usr/bin/env python3
"""The production shape run for real: docker-compose.yml on a Docker engine, every container's failure.

Builds the images (base images from docker/base.sh where no registry answers), starts the real
docker-compose.yml with profiles demo and monitoring under a project name of its own, on free
loopback ports, and proves, each as a test with a measured figure:
  serving       TLS clients through the published port are greeted by the demo nodes (their own
                containers, registered in Redis like chat nodes), least connections spreads them,
                /metrics comes from the bridge container, Prometheus scrapes it with the rules
  controller    the controller's process killed: HAProxy serves on (0 refused), the controller
                comes back by its restart policy, takes back its own drain, removes nothing live
  haproxy       HAProxy's process killed: its restart policy brings it back with every node
  redis         Redis stopped 30 s: every node kept and served; back empty: discovery resumes
  recreate      HAProxy recreated after a setting changed, clients connected: soft stop measured
  two-pairs     a second pair (another project) on the same Redis serves the same nodes, and
                serves on while the first pair is stopped
  bad-settings  a bad variable stops a container with one line naming it, the same line as
                ./mcs-lb up's checks (the entry scripts run locally)
  images        non-root, read-only root file system, no capability; sizes
  healthchecks  each service's healthcheck turns unhealthy when its processes stop, healthy again
A process "killed" is SIGKILLed from outside, as a crash or the OOM killer does: Docker 20.10 counts
`docker kill` as a manual stop, after which no restart policy applies (checked here).

Everything it starts is removed at the end (docker-compose down -v per project, the extra
container by name), also when a test fails or the suite is interrupted.

  python3 tests/compose/compose_suite.py ROOT BUILD_DIR    exit 0 pass, 1 fail, 77 skipped
  COMPOSE_KEEP=1 leaves the projects running for a look; COMPOSE_ONLY=name[,name] runs those.
"""
import json
import os
import re
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "pylib"))
from mcs_lib import free_port  # noqa: E402

ROOT, BUILD = (os.path.abspath(p) for p in sys.argv[1:3])
T0 = time.monotonic()
RUN_ID = f"{os.getpid()}{int(time.time()) % 10000}"
PROJECT = f"mcslbt{RUN_ID}"
PROJECT_B = f"mcslbt{RUN_ID}b"
EXTRA = f"{PROJECT}-extra"
IO_TIMEOUT_S = 5.0
EMPTY_ENV = tempfile.NamedTemporaryFile(prefix="mcs-compose-", suffix=".env")  # removed at exit
TTL_S = 5  # MCS_NODE_TTL_MS, the default


def say(msg):
    print(f"[{time.monotonic() - T0:7.1f}s] {msg}", flush=True)


def run(args, check=True, timeout=900, **kw):
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(args)}: exit {r.returncode}: {(r.stderr or r.stdout).strip()[-800:]}")
    return r


def wait(what, cond, timeout, step=0.2):
    """Polls cond() until it returns a true value; returns (value, seconds taken)."""
    t = time.monotonic()
    while True:
        try:
            v = cond()
        except (OSError, AssertionError, ValueError, subprocess.SubprocessError):
            v = None
        if v:
            return v, time.monotonic() - t
        if time.monotonic() - t > timeout:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(step)  # poll step


class Stack:
    """One compose project of docker-compose.yml (and extra files), on its own ports."""

    def __init__(self, name, env, files=(), profiles=("demo", "monitoring")):
        self.name, self.env = name, env
        # An empty --env-file: a .env beside docker-compose.yml must not change what is tested.
        self.base = ["docker-compose", "--env-file", EMPTY_ENV.name, "-p", name, "-f", os.path.join(ROOT, "docker-compose.yml")]
        for f in files:
            self.base += ["-f", f]
        for p in profiles:
            self.base += ["--profile", p]

    def compose(self, *args, check=True, timeout=600, extra_env=None):
        return run(self.base + list(args), check=check, timeout=timeout, cwd=ROOT, env={**self.env, **(extra_env or {})})

    def cid(self, service):
        ids = self.compose("ps", "-q", service).stdout.split()
        if not ids:
            raise AssertionError(f"{self.name}: no container for {service}")
        return ids[0]

    def inspect(self, service, fmt):
        return run(["docker", "inspect", "-f", fmt, self.cid(service)]).stdout.strip()

    def health(self, service):
        return self.inspect(service, "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}")

    def socket_cmd(self, cmd, sock="stats.sock"):
        return run(["docker", "exec", "-i", self.cid("haproxy"), "socat", "-T2", "-", f"UNIX-CONNECT:/run/mcs-lb/{sock}"],
                   input=cmd + "\n", timeout=10).stdout

    def servers(self):
        """{name: (op_state, admin_state)} from `show servers state mcs`."""
        out = self.socket_cmd("show servers state mcs")
        lines = out.splitlines()
        if len(lines) < 2 or lines[0] != "1":
            raise AssertionError(f"show servers state: {out[:200]!r}")
        cols = lines[1].lstrip("# ").split()
        got = {}
        for line in lines[2:]:
            f = line.split()
            if len(f) == len(cols):
                row = dict(zip(cols, f))
                got[row["srv_name"]] = (int(row["srv_op_state"]), int(row["srv_admin_state"]))
        return got

    def redis(self, *args):
        return run(["docker", "exec", self.cid("redis"), "redis-cli", *args], timeout=10).stdout.strip()

    def dump_logs(self):
        r = self.compose("logs", "--no-color", "--tail", "40", check=False, timeout=60)
        print(f"---- last logs of {self.name} ----\n{r.stdout}{r.stderr}", flush=True)

    def down(self):
        self.compose("down", "-v", "--remove-orphans", "-t", "5", check=False, timeout=300)


def ready_nodes(servers):
    """Names of the servers HAProxy sends clients to: UP (2) and neither drained nor in maintenance."""
    return {n for n, (op, adm) in servers.items() if op == 2 and adm == 0}


def kill_process(stack, service):
    """SIGKILL of the container's first process from outside (a crash; no `docker kill`)."""
    pid = int(stack.inspect(service, "{{.State.Pid}}"))
    count = int(stack.inspect(service, "{{.RestartCount}}"))
    os.kill(pid, signal.SIGKILL)
    return count


class Client:
    """A TLS chat client through the gateway: greeted with HELLO <node>, then echoes."""

    def __init__(self, port, cafile, timeout=IO_TIMEOUT_S):
        ctx = ssl.create_default_context(cafile=cafile)
        raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        try:
            self.sock = ctx.wrap_socket(raw, server_hostname="localhost")
            self.buf = b""
            line = self.readline()
        except Exception:
            raw.close()
            raise
        if not line.startswith("HELLO "):
            self.close()
            raise AssertionError(f"greeting {line!r}")
        self.node = line[6:]

    def readline(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(4096)
            if not data:
                raise ConnectionError("closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode().strip()

    def echo(self, text):
        self.sock.sendall(text.encode() + b"\n")
        got = self.readline()
        if got != text:
            raise AssertionError(f"echo {text!r} came back as {got!r}")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Prober(threading.Thread):
    """New TLS clients every `gap` seconds until stopped: how many were greeted, how many not."""

    def __init__(self, port, cafile, gap=0.2):
        super().__init__(daemon=True)
        self.port, self.cafile, self.gap = port, cafile, gap
        self.ok, self.failed, self.nodes, self.errors = 0, 0, set(), []
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                c = Client(self.port, self.cafile, timeout=3)
                self.ok += 1
                self.nodes.add(c.node)
                c.close()
            except (OSError, AssertionError, ConnectionError) as e:
                self.failed += 1
                if len(self.errors) < 5:
                    self.errors.append(f"{time.monotonic() - T0:.1f}s {type(e).__name__}: {e}")
            self.stop.wait(self.gap)

    def finish(self):
        self.stop.set()
        self.join(10)
        return self


class Heartbeat(threading.Thread):
    """Heartbeats one extra node into mcs:node (unix seconds, as the chat nodes do) while on."""

    def __init__(self, stack, member):
        super().__init__(daemon=True)
        self.stack, self.member = stack, member
        self.on, self.stop = threading.Event(), threading.Event()
        self.sent, self.last_error = 0, None

    def run(self):
        while not self.stop.is_set():
            if self.on.is_set():
                try:
                    # The score is Redis's clock when the write lands, as a chat node's is: a
                    # `docker exec` can take seconds on a busy machine, and a score taken before
                    # it would arrive stale (the node flapped in and out of service).
                    self.stack.redis("EVAL", "local t = redis.call('TIME') return redis.call('ZADD', KEYS[1], t[1], ARGV[1])",
                                     "1", "mcs:node", self.member)
                    self.sent += 1
                except Exception as e:  # noqa: BLE001 - Redis away: a chat node keeps trying too
                    self.last_error = f"{type(e).__name__}: {e}"
            self.stop.wait(1.0)


class Suite:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="mcs-compose-")
        self.tls = os.path.join(self.tmp, "tls")
        self.port, self.metrics_port = free_port(), free_port()
        self.port_b, self.metrics_port_b = free_port(), free_port()
        self.env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "DOCKER_HOST", "DOCKER_CONFIG")}
        self.env.update({"MCS_PORT": str(self.port), "PROMETHEUS_PORT": str(self.metrics_port),
                         "MCS_BIND_ADDR": "127.0.0.1", "MCS_METRICS_BIND_ADDR": "127.0.0.1",
                         "MCS_TLS_DIR": self.tls})
        self.a = Stack(PROJECT, self.env)
        self.b = None
        self.cafile = os.path.join(self.tls, "server.cert")
        self.held = []
        self.extra_member = None
        self.hb = None

    # ---- set-up and tear-down
    def setup(self):
        run([os.path.join(ROOT, "tls", "gen-dev-cert.sh"), self.tls])
        os.chmod(self.tmp, 0o755)
        os.chmod(self.tls, 0o755)
        # The key readable by the containers' group mcs (10001), as docs/operations.md says.
        os.chown(os.path.join(self.tls, "server.key"), -1, 10001)
        os.chmod(os.path.join(self.tls, "server.key"), 0o640)
        say("base images (docker/base.sh: nothing to do when debian:12 and debian:12-slim exist)")
        run(["bash", os.path.join(ROOT, "docker", "base.sh")], timeout=900)
        t = time.monotonic()
        # --force-rm: a failed build step leaves no intermediate container behind.
        self.a.compose("build", "--force-rm", timeout=1800)
        say(f"images built in {time.monotonic() - t:.0f} s")
        t = time.monotonic()
        self.a.compose("up", "-d", timeout=600)
        services = ["redis", "haproxy", "controller", "metrics-bridge", "prometheus", "alertmanager"]
        wait("every service healthy", lambda: all(self.a.health(s) == "healthy" for s in services), 120, 1.0)
        say(f"{PROJECT} up and healthy in {time.monotonic() - t:.1f} s")

    def cleanup(self):
        if os.environ.get("COMPOSE_KEEP") == "1":
            say(f"COMPOSE_KEEP=1: left running; remove with docker-compose -p {PROJECT} down -v (and {PROJECT_B}, {EXTRA})")
            return
        for c in self.held:
            c.close()
        if self.hb:
            self.hb.stop.set()
        run(["docker", "rm", "-f", EXTRA], check=False, timeout=60)
        if self.b:
            self.b.down()
        self.a.down()
        run(["rm", "-rf", self.tmp], check=False)

    def demo_nodes(self):
        return {m for m in self.a.redis("ZRANGE", "mcs:node", "0", "-1").split() if m != self.extra_member}

    def start_extra(self):
        """A node this suite heartbeats itself (the demo node's own heartbeats go to another key),
        so it can leave while its process keeps serving its sessions."""
        if self.extra_member:
            return
        run(["docker", "run", "-d", "--name", EXTRA, "--network", f"{PROJECT}_default", "--init", "--read-only",
             "--cap-drop", "ALL", "-e", "REDIS_URL=redis://redis:6379", "-e", "MCS_NODE_KEY=mcs:suite-unused",
             "-e", "MCS_DEMO_LISTEN=0.0.0.0:7000", "mcs-lb/demo-node"])
        ip = run(["docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", EXTRA]).stdout.strip()
        self.extra_member = f"{ip}:7000"
        self.hb = Heartbeat(self.a, self.extra_member)
        self.hb.start()

    # ---- the tests
    def t_serving(self):
        nodes = wait("three demo nodes in mcs:node", lambda: (lambda n: n if len(n) == 3 else None)(self.demo_nodes()), 30)[0]
        wait("HAProxy serves the three", lambda: ready_nodes(self.a.servers()) >= nodes, 30)
        lat, count = [], {}
        for _ in range(30):
            t = time.monotonic()
            c = Client(self.port, self.cafile)
            lat.append((time.monotonic() - t) * 1000)
            self.held.append(c)
            count[c.node] = count.get(c.node, 0) + 1
        if set(count) != nodes:
            raise AssertionError(f"greeted by {sorted(count)}, registered {sorted(nodes)}")
        if max(count.values()) - min(count.values()) > 1:
            raise AssertionError(f"30 held clients spread {count}: least connections would give 10 each")
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).read().decode()
        active = {m.group(1): int(float(m.group(2))) for m in
                  re.finditer(r'^lb_backend_active_connections\{backend="([^"]+)"\} (\S+)$', metrics, re.M)}
        if {k: v for k, v in active.items() if v} != count:
            raise AssertionError(f"/metrics says {active}, the clients hold {count}")
        status = run(["docker", "exec", self.a.cid("haproxy"), "mcs-lb-status", "--run-dir", "/run/mcs-lb", "--json"], check=False)
        if status.returncode != 0 or json.loads(status.stdout).get("healthy_nodes") != len(nodes):
            raise AssertionError(f"mcs-lb-status in the haproxy container: exit {status.returncode}, {status.stdout[:300]!r}")
        expiry = re.search(r"^lb_tls_certificate_expiry_timestamp_seconds (\S+)$", metrics, re.M)
        if not expiry or float(expiry.group(1)) < time.time() + 800 * 86400:
            raise AssertionError(f"the served certificate's expiry (825 days ahead) is {expiry and expiry.group(1)}")
        prom = self.a.compose("port", "prometheus", "9090").stdout.strip().rsplit(":", 1)[1]
        api = f"http://127.0.0.1:{prom}/api/v1"

        def scraped():
            r = json.load(urllib.request.urlopen(f"{api}/query?query=up", timeout=5))["data"]["result"]
            return r and all(x["value"][1] == "1" for x in r) and r

        _, scrape_s = wait("Prometheus scrapes the bridge (up == 1)", scraped, 60, 1.0)
        with open(os.path.join(ROOT, "metrics-bridge", "alerts.yml"), encoding="utf-8") as f:
            shipped = {r["alert"] for g in yaml.safe_load(f)["groups"] for r in g["rules"] if "alert" in r}
        groups = json.load(urllib.request.urlopen(f"{api}/rules", timeout=5))["data"]["groups"]
        loaded = {r["name"] for g in groups for r in g["rules"] if r.get("type") == "alerting"}
        if shipped - loaded:
            raise AssertionError(f"alert rules not loaded by Prometheus: {sorted(shipped - loaded)}")
        ams = json.load(urllib.request.urlopen(f"{api}/alertmanagers", timeout=5))["data"]["activeAlertmanagers"]
        if len(ams) != 1 or ":9093/" not in ams[0]["url"]:
            raise AssertionError(f"Prometheus's Alertmanagers: {ams}")
        return (f"30 clients greeted by {len(count)} node containers, {sorted(count.values())} each, "
                f"connect+TLS+greeting p50 {statistics.median(lat):.1f} ms max {max(lat):.1f} ms; "
                f"/metrics agrees; Prometheus up==1 after {scrape_s:.1f} s more, {len(loaded)} alert rules loaded, "
                f"sending to the profile's Alertmanager; mcs-lb-status in the container: serving, {len(nodes)} healthy")

    def t_controller(self):
        self.start_extra()
        extra = self.extra_member
        self.hb.on.set()
        wait("the extra node served", lambda: extra in ready_nodes(self.a.servers()), 30)
        mine = None
        for _ in range(40):
            c = Client(self.port, self.cafile)
            if c.node == extra:
                mine = c
                break
            self.held.append(c)
        if mine is None:
            raise AssertionError("no client reached the extra node")
        self.held.append(mine)
        live = ready_nodes(self.a.servers()) - {extra}
        self.hb.on.clear()
        _, drain_s = wait("the extra node drained", lambda: self.a.servers().get(extra, (0, 0))[1] & 8, 30)
        prober = Prober(self.port, self.cafile)
        prober.start()
        restarts = kill_process(self.a, "controller")
        _, back_s = wait("the controller restarted", lambda: int(self.a.inspect("controller", "{{.RestartCount}}")) > restarts
                         and self.a.inspect("controller", "{{.State.Running}}") == "true", 60)
        # Its first step after the restart: controller.json rewritten.
        wait("controller.json rewritten", lambda: float(run(["docker", "exec", self.a.cid("controller"), "stat", "-c", "%Y",
                                                             "/run/mcs-lb/controller.json"]).stdout) > time.time() - 2, 30)
        if self.a.servers().get(extra, (0, 0))[1] & 8 == 0:
            raise AssertionError("the restarted controller lost the drain of a node that left")
        self.hb.on.set()
        _, retake_s = wait("the drain taken back once the node heartbeats again", lambda: extra in ready_nodes(self.a.servers()), 30)
        mine.echo("still here")
        # New clients go on being greeted once the controller is back and the drain is taken back.
        after = prober.ok
        wait("new clients greeted after the drain was taken back", lambda: prober.ok >= after + 5, 30)
        prober.finish()
        if prober.failed:
            raise AssertionError(f"{prober.failed} of {prober.ok + prober.failed} new clients failed: {prober.errors}")
        if not live <= ready_nodes(self.a.servers()):
            raise AssertionError(f"live nodes no longer served: {sorted(live - ready_nodes(self.a.servers()))}")
        logs = self.a.compose("logs", "--no-color", "controller").stdout
        for n in live:
            if re.search(r"(drain|remove|del) .*" + re.escape(n), logs):
                raise AssertionError(f"the controller drained or removed {n}, which heartbeat throughout")
        return (f"node drained {drain_s:.1f} s after its last heartbeat; controller back {back_s:.1f} s after the kill; "
                f"{prober.ok} new clients during and after, 0 refused; its drain taken back {retake_s:.1f} s after the "
                f"node returned, the held session on it kept; nothing live touched")

    def t_haproxy(self):
        live = ready_nodes(self.a.servers())
        restarts = kill_process(self.a, "haproxy")
        t = time.monotonic()
        wait("the haproxy container restarted", lambda: int(self.a.inspect("haproxy", "{{.RestartCount}}")) > restarts, 60)
        wait("every live node served again", lambda: ready_nodes(self.a.servers()) >= live, 60)
        served_s = time.monotonic() - t  # from the kill, not from the restart seen
        greeted = set()
        for _ in range(3 * len(live)):
            c = Client(self.port, self.cafile)
            greeted.add(c.node)
            self.held.append(c)
        if greeted != live:
            raise AssertionError(f"after the restart clients reached {sorted(greeted)}, live {sorted(live)}")
        if self.a.inspect("controller", "{{.State.Running}}") != "true":
            raise AssertionError("the controller did not survive HAProxy's restart")
        self.held = [c for c in self.held if not self._dead(c)]
        return f"{len(live)} nodes served again {served_s:.1f} s after HAProxy's process was killed, no hand step"

    @staticmethod
    def _dead(c):
        try:
            c.echo("x")
            return False
        except (OSError, AssertionError, ConnectionError):
            c.close()
            return True

    def t_redis(self):
        live = ready_nodes(self.a.servers())
        self.hb.on.clear()
        self.a.compose("stop", "-t", "5", "redis")
        t, checks = time.monotonic(), 0
        prober = Prober(self.port, self.cafile, gap=0.5)
        prober.start()
        while time.monotonic() - t < 30:
            if not ready_nodes(self.a.servers()) >= live:
                prober.finish()
                raise AssertionError(f"with Redis stopped, nodes left service: {sorted(live - ready_nodes(self.a.servers()))}")
            checks += 1
            time.sleep(1)  # poll step: the loop watches for its whole deadline
        self.a.compose("start", "redis")
        empty = wait("Redis answers again", lambda: self.a.redis("ZCARD", "mcs:node"), 30)[0]
        # As a chat node does, the extra node heartbeats again as soon as Redis answers.
        sent = self.hb.sent
        self.hb.on.set()
        t = time.monotonic()
        try:
            def served(servers):  # one snapshot: the server may leave between two reads
                return self.extra_member in ready_nodes(servers) and servers[self.extra_member][1] == 0
            _, join_s = wait("a node heartbeating into the new Redis is served", lambda: served(self.a.servers()), 30, 0.1)
        except AssertionError as e:
            raise AssertionError(f"{e} ({self.hb.sent - sent} heartbeats sent, last error {self.hb.last_error}, "
                                 f"HAProxy: {self.a.servers().get(self.extra_member)})") from None
        wait("redis healthy again", lambda: self.a.health("redis") == "healthy", 60, 1.0)
        t2 = time.monotonic()
        while time.monotonic() - t2 < 2 * TTL_S:
            if not ready_nodes(self.a.servers()) >= live:
                raise AssertionError(f"after Redis came back, nodes left service: {sorted(live - ready_nodes(self.a.servers()))}")
            time.sleep(0.5)  # poll step: the loop watches for its whole deadline
        prober.finish()
        if prober.failed:
            raise AssertionError(f"{prober.failed} of {prober.ok + prober.failed} new clients failed: {prober.errors}")
        return (f"Redis stopped 30 s: {len(live)} nodes kept ({checks} looks), {prober.ok} new clients all greeted; "
                f"back with {empty} members: a heartbeating node served {join_s:.1f} s after its first heartbeat, "
                f"nothing live removed over the next {2 * TTL_S} s")

    def t_recreate(self):
        clients = [Client(self.port, self.cafile) for _ in range(20)]
        stop = threading.Event()
        last_ok, ended = [0.0] * len(clients), [None] * len(clients)

        def talk(i):
            n = 0
            while not stop.is_set():
                try:
                    clients[i].echo(f"m{n}")
                    last_ok[i] = time.monotonic()
                except (OSError, AssertionError, ConnectionError):
                    ended[i] = time.monotonic()
                    return
                n += 1
                stop.wait(0.5)

        threads = [threading.Thread(target=talk, args=(i,), daemon=True) for i in range(len(clients))]
        for th in threads:
            th.start()
        grace = 10  # MCS_STOP_GRACE_S's default
        t = time.monotonic()
        # A real setting change: compose recreates the container (stop_signal, stop_grace_period).
        proc = subprocess.Popen(self.a.base + ["up", "-d", "--no-deps", "haproxy"], cwd=ROOT, text=True,
                                env={**self.env, "MCS_IDLE_TIMEOUT_S": "21000"}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        refused_from, served_at = None, None
        while time.monotonic() - t < grace + 60:
            try:
                c = Client(self.port, self.cafile, timeout=2)
                c.close()
                if refused_from is not None:
                    served_at = time.monotonic()
                    break
            except (OSError, AssertionError, ConnectionError):
                if refused_from is None:
                    refused_from = time.monotonic()
            time.sleep(0.2)  # poll step: the loop watches for its whole deadline
        out, _ = proc.communicate(timeout=120)
        stop.set()
        for th in threads:
            th.join(5)
        for c in clients:
            c.close()
        if proc.returncode != 0:
            raise AssertionError(f"docker-compose up -d: {out[-500:]}")
        if refused_from is None or served_at is None:
            raise AssertionError("no refusal window seen, or never served again")
        cut = [e - t for e in ended if e is not None]
        kept = [l - t for l in last_ok]
        if len(cut) != len(clients):
            raise AssertionError(f"{len(clients) - len(cut)} sessions survived a recreated container?")
        if min(kept) < grace - 3:
            raise AssertionError(f"a session stopped echoing {min(kept):.1f} s after the stop began: no soft stop")
        live = wait("every node served by the new container", lambda: len(ready_nodes(self.a.servers())) >= 4 and
                    ready_nodes(self.a.servers()), 60)[0]
        return (f"grace {grace} s: the 20 held sessions kept echoing until {min(kept):.1f}-{max(kept):.1f} s, "
                f"then were cut at {min(cut):.1f}-{max(cut):.1f} s; new clients refused from {refused_from - t:.1f} s "
                f"to {served_at - t:.1f} s; {len(live)} nodes served by the new container")

    def t_two_pairs(self):
        override = os.path.join(ROOT, "tests", "compose", "second-pair.yml")
        env_b = {**self.env, "MCS_PORT": str(self.port_b), "PROMETHEUS_PORT": str(self.metrics_port_b),
                 "MCS_SHARED_NETWORK": f"{PROJECT}_default"}
        self.b = Stack(PROJECT_B, env_b, files=[override], profiles=())
        t = time.monotonic()
        self.b.compose("up", "-d", "haproxy", "controller", "metrics-bridge")
        want = ready_nodes(self.a.servers())
        _, same_s = wait("the second pair serves the same nodes", lambda: ready_nodes(self.b.servers()) == want, 90, 0.5)
        same_s = time.monotonic() - t
        self.a.compose("stop", "-t", "12", "haproxy", "controller")
        try:
            greeted = set()
            for _ in range(4 * len(want)):
                c = Client(self.port_b, self.cafile)
                greeted.add(c.node)
                c.close()
            try:
                Client(self.port, self.cafile, timeout=2).close()
                raise AssertionError("the first pair still answers after it was stopped")
            except (OSError, ConnectionError, ssl.SSLError):
                pass
        finally:
            self.a.compose("start", "haproxy", "controller")
        if greeted != want:
            raise AssertionError(f"with the first pair stopped, the second reached {sorted(greeted)} of {sorted(want)}")
        wait("the first pair serves again", lambda: ready_nodes(self.a.servers()) >= want, 60)
        self.b.down()
        self.b = None
        return (f"second pair serving the same {len(want)} nodes {same_s:.1f} s after `up`; with the first pair "
                f"stopped it greeted {4 * len(want)} clients from all {len(greeted)} nodes")

    def t_bad_settings(self):
        cases = [("haproxy", "MCS_MAXCONN", "lots", "haproxy.sh"), ("haproxy", "MCS_LIMIT_CONN_RATE", "-5", "haproxy.sh"),
                 ("controller", "MCS_POLL_MS", "abc", "controller.sh"),
                 ("metrics-bridge", "MCS_METRICS_SCRAPE_TIMEOUT_MS", "x1", "metrics.sh")]
        local_env = {**self.env, "MCS_RUN_DIR": os.path.join(self.tmp, "run"), "REDIS_URL": "redis://127.0.0.1:1",
                     "PATH": ":".join([os.path.join(BUILD, d) for d in ("controller", "metrics-bridge", "tls")] + [self.env["PATH"]])}
        shown = []
        for service, var, value, script in cases:
            r = self.a.compose("run", "--rm", "--no-deps", "-e", f"{var}={value}", service, check=False, timeout=120)
            lines = [l for l in (r.stdout + r.stderr).splitlines() if var in l]
            if r.returncode == 0 or len(lines) != 1:
                raise AssertionError(f"{service} with {var}={value}: exit {r.returncode}, output {(r.stdout + r.stderr)[-400:]!r}")
            container_msg = lines[0][lines[0].index(var):]
            loc = run([os.path.join(ROOT, "docker", "entry", script), "check"], check=False, cwd=self.tmp,
                      env={**local_env, var: value})
            local = [l for l in (loc.stdout + loc.stderr).splitlines() if var in l]
            if loc.returncode == 0 or len(local) != 1 or local[0][local[0].index(var):] != container_msg:
                raise AssertionError(f"./mcs-lb up's check of {var}={value} says {(loc.stdout + loc.stderr)[-300:]!r}, "
                                     f"the container {container_msg!r}")
            shown.append(container_msg)
        return "; ".join(shown) + " (the container and ./mcs-lb up's checks say the same line)"

    def t_images(self):
        facts, sizes = [], []
        for service in ("redis", "haproxy", "controller", "metrics-bridge", "prometheus", "alertmanager", "demo-node"):
            cid = self.a.cid(service)
            uid = run(["docker", "exec", cid, "id", "-u"]).stdout.strip()
            ro = self.a.inspect(service, "{{.HostConfig.ReadonlyRootfs}}")
            caps = self.a.inspect(service, "{{.HostConfig.CapDrop}}")
            pids = [int(p) for p in run(["docker", "top", cid, "-o", "pid"]).stdout.split()[1:]]
            eff = set()
            for p in pids:
                with open(f"/proc/{p}/status", encoding="ascii") as f:
                    eff.add(re.search(r"^CapEff:\s*(\S+)", f.read(), re.M).group(1))
            write = run(["docker", "exec", cid, "sh", "-c", "touch /probe-$$"], check=False)
            if uid == "0" or ro != "true" or "ALL" not in caps or eff != {"0000000000000000"} or write.returncode == 0:
                raise AssertionError(f"{service}: uid {uid}, read-only {ro}, cap_drop {caps}, CapEff {eff}, "
                                     f"root fs write exit {write.returncode}")
            image = self.a.inspect(service, "{{.Config.Image}}")
            size = int(run(["docker", "image", "inspect", "-f", "{{.Size}}", image]).stdout)
            sizes.append(f"{image} {size / 1e6:.0f} MB")
            facts.append(service)
        say("image sizes: " + ", ".join(sizes))
        return f"{len(facts)} services non-root, read-only root, no capability (CapEff 0); sizes: " + ", ".join(sizes)

    def t_healthchecks(self):
        services = ["redis", "haproxy", "controller", "metrics-bridge", "prometheus", "alertmanager", "demo-node"]
        pids = {s: [int(p) for p in run(["docker", "top", self.a.cid(s), "-o", "pid"]).stdout.split()[1:]] for s in services}
        t = time.monotonic()
        for s in services:
            for p in pids[s]:
                os.kill(p, signal.SIGSTOP)
        unhealthy, healthy = {}, {}
        try:
            while len(unhealthy) < len(services) and time.monotonic() - t < 150:
                for s in services:
                    if s not in unhealthy and self.a.health(s) == "unhealthy":
                        unhealthy[s] = time.monotonic() - t
                time.sleep(1)  # poll step: Docker's healthcheck runs every few seconds
        finally:
            t2 = time.monotonic()
            for s in services:
                for p in pids[s]:
                    try:
                        os.kill(p, signal.SIGCONT)
                    except ProcessLookupError:
                        pass
        while len(healthy) < len(services) and time.monotonic() - t2 < 60:
            for s in services:
                if s not in healthy and self.a.health(s) == "healthy":
                    healthy[s] = time.monotonic() - t2
            time.sleep(1)  # poll step: Docker's healthcheck runs every few seconds
        if set(unhealthy) != set(services) or set(healthy) != set(services):
            raise AssertionError(f"unhealthy after stop: {unhealthy}; healthy after continue: {healthy}")
        wait("clients served again", lambda: Client(self.port, self.cafile, timeout=2), 30)
        return "stopped -> unhealthy / continued -> healthy: " + ", ".join(
            f"{s} {unhealthy[s]:.0f}/{healthy[s]:.0f} s" for s in services)


TESTS = [("serving", Suite.t_serving), ("controller", Suite.t_controller), ("haproxy", Suite.t_haproxy),
         ("redis", Suite.t_redis), ("recreate", Suite.t_recreate), ("two-pairs", Suite.t_two_pairs),
         ("bad-settings", Suite.t_bad_settings), ("images", Suite.t_images), ("healthchecks", Suite.t_healthchecks)]


def engine_answers():
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def main():
    if not engine_answers() or subprocess.run(["sh", "-c", "command -v docker-compose"], capture_output=True).returncode:
        print("SKIPPED: no Docker engine answers `docker info` (or no docker-compose): the compose suite did NOT run;"
              " the production shape is unproven on this machine", flush=True)
        return 1 if os.environ.get("CI") == "true" else 77
    only = set(filter(None, os.environ.get("COMPOSE_ONLY", "").split(",")))
    suite = Suite()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    passed, failed, skipped = 0, 0, 0
    try:
        try:
            suite.setup()
        except Exception as e:  # noqa: BLE001 - any failure to start is the suite's failure
            print(f"not ok - set-up: {e}", flush=True)
            suite.a.dump_logs()
            print(f"0 passed, {len(TESTS)} failed")
            return 1
        for i, (name, fn) in enumerate(TESTS, 1):
            if only and name not in only:
                skipped += 1
                continue
            say(f"test {name}")
            try:
                figure = fn(suite)
                passed += 1
                print(f"ok {i} - {name}: {figure}", flush=True)
            except Exception as e:  # noqa: BLE001 - report, show the logs, go on with the next
                failed += 1
                print(f"not ok {i} - {name}: {type(e).__name__}: {e}", flush=True)
                suite.a.dump_logs()
    finally:
        suite.cleanup()
    print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
