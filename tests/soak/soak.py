#!/usr/bin/env python3
"""Churn soak of the MCS edge gateway: every real process on 127.0.0.1.

redis-server (own port, no persistence, keyspace notifications), HAProxy started and reloaded
through docker/entry/haproxy.sh, mcs-lb-controller and mcs-lb-metrics from the meson build, 20+
demo chat nodes whose heartbeats this script sends (ZADD every ~2 s, each on its own phase), so a
node can leave gracefully (heartbeat stops, the process keeps serving its held sessions). Every
second one node joins, leaves or flaps; per cycle (180 s, or the whole run when shorter) one node
is killed outright, Redis is restarted and HAProxy is reloaded three times, while TLS clients hold
long sessions (a message every second) and open new connections continuously.

Asserts: no new connection failed and no held session broke except on the killed node; once the
churn stops and settles, HAProxy's servers == the live Redis set == servers.cfg, all ready; no
/metrics counter ever decreased; no node that heartbeat throughout was drained or removed (a
Redis restart included); controller and bridge RSS flat; both exit 0 on SIGTERM.
SOAK_VALGRIND=1 runs both daemons under valgrind memcheck and fails on any error or definite leak.

  python3 tests/soak/soak.py --build BUILD_DIR      SOAK_SECONDS (180), SOAK_VALGRIND, SOAK_KEEP,
                                                     SOAK_SEED; exit 0 pass, 1 fail, 77 skipped
"""
import argparse
import faulthandler
import os
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "pylib"))
from mcs_lib import Proc, Redis, free_port, hap_cmd, hap_servers, node_port, wait_for  # noqa: E402
TTL_S = 5                   # MCS_NODE_TTL_MS 5000, the product's default
HB_PERIOD_S = 2.0           # a chat node's heartbeat period
POLL_MS = 200               # MCS_POLL_MS: short, so a run of minutes sees many steps
DRAIN_TIMEOUT_S = 60        # MCS_DRAIN_TIMEOUT_S: above the longest held session (45 s)
NODES_START, NODES_MIN, NODES_MAX = 22, 20, 26
MAX_FLAPPING = 3            # well below MCS_MASS_REMOVAL_PCT (50%)
HELD, SESSION_S = 24, (15.0, 45.0)
CONNECTORS, CONNECT_GAP_S = 2, 0.2   # about 10 new connections a second in all
CYCLE_S = 180
KILLED_HB_S = 15            # the killed node keeps heartbeating this long (a hung chat job)
IO_TIMEOUT_S = 5.0
REDIS_TIMEOUT_S = 2.0
WINDOW_S = 10.0             # a failure this soon after an event is listed with that event

T0 = time.monotonic()


def now():
    return time.monotonic() - T0


def say(msg):
    print(f"[{now():7.1f}s] {msg}", flush=True)


class Fail(Exception):
    pass


def live_set(r):
    """The members of mcs:node whose heartbeat is younger than the TTL, by Redis's clock."""
    t = r.time()
    return set(r.cmd("ZRANGEBYSCORE", "mcs:node", f"({t - TTL_S}", "+inf"))


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


# ---------------------------------------------------------------- the soak

class Node:
    def __init__(self, proc, port):
        self.proc, self.port, self.name = proc, port, f"127.0.0.1:{port}"
        self.state = "live"       # live, flap, left, killed, dead (killed, heartbeat over), retired
        self.since = now()        # last state change
        self.resume_at = 0.0      # flap: heartbeat resumes then
        self.next_hb = now() + random.uniform(0, HB_PERIOD_S)
        self.hb_until = 0.0       # killed: heartbeats stop then
        self.reused = False       # retired, and its port given to a new node


class Soak:
    def __init__(self, args):
        self.a = args
        self.valgrind = os.environ.get("SOAK_VALGRIND", "") not in ("", "0")
        self.seconds = float(os.environ.get("SOAK_SECONDS", "180"))
        self.keep = os.environ.get("SOAK_KEEP", "") not in ("", "0")
        self.slow = 4.0 if self.valgrind else 1.0
        self.lock = threading.RLock()
        self.procs, self.nodes, self.events = [], [], []
        self.stop_churn, self.stop_clients, self.stop_watch = (threading.Event() for _ in range(3))
        self.c = {k: 0 for k in (
            "opened", "new_ok", "new_failed", "new_failed_no_healthy", "held_started", "held_survived",
            "held_broken", "killed_lost", "survived_drain", "survived_reload", "survived_redis",
            "joins", "joins_reused_port", "leaves", "flaps_pause", "flaps_zrem", "retired",
            "reloads_script", "reloads_usr2", "redis_restarts", "kills", "hb_sent", "hb_failed",
            "scrapes", "scrape_failed", "haproxy_up_0", "controller_up_0",
            "spurious_drains", "spurious_removals")}
        self.failures, self.decreases, self.spurious, self.rss = [], [], [], []
        self.sessions = {}     # id -> node name, of held sessions open now
        self.counters = {}     # series -> last value
        self.errors = []
        self.failure_causes = {}  # nearest event -> failures (new connections and held sessions)

    def inc(self, key, by=1):
        with self.lock:
            self.c[key] += int(by)

    # ---- set-up

    def setup(self):
        self.dir = tempfile.mkdtemp(prefix="mcs-lb-soak.")
        self.run_dir, self.tls_dir = os.path.join(self.dir, "run"), os.path.join(self.dir, "tls")
        self.logdir = os.path.join(self.dir, "logs")
        for d in (self.run_dir, self.logdir):
            os.mkdir(d)
        self.admin, self.stats = os.path.join(self.run_dir, "admin.sock"), os.path.join(self.run_dir, "stats.sock")
        b = self.a.build
        self.bin = {"controller": f"{b}/controller/mcs-lb-controller", "bridge": f"{b}/metrics-bridge/mcs-lb-metrics",
                    "node": f"{b}/demo/mcs-lb-demo-node"}
        subprocess.run(["sh", f"{ROOT}/tls/gen-dev-cert.sh", self.tls_dir], check=True, capture_output=True)
        self.redis_port, self.mcs_port, self.prom_port = free_port(), free_port(), free_port()
        self.env = dict(os.environ, PATH=f"{b}/tls:{os.environ.get('PATH', '/usr/bin:/bin')}:/usr/sbin:/sbin",
                        MCS_RUN_DIR=self.run_dir, MCS_TLS_DIR=self.tls_dir, MCS_PORT=str(self.mcs_port),
                        MCS_BIND_ADDR="127.0.0.1", MCS_MAXCONN="2000", MCS_LIMIT_CONN_RATE="0",
                        MCS_LIMIT_CONCURRENT="0", REDIS_URL=f"redis://127.0.0.1:{self.redis_port}",
                        MCS_POLL_MS=str(POLL_MS), MCS_NODE_TTL_MS=str(TTL_S * 1000),
                        MCS_DRAIN_TIMEOUT_S=str(DRAIN_TIMEOUT_S), MCS_CHECK_INTER_MS="1000",
                        PROMETHEUS_PORT=str(self.prom_port), MCS_METRICS_BIND_ADDR="127.0.0.1")
        self.redis_start()
        self.r = Redis(self.redis_port, REDIS_TIMEOUT_S)
        for attempt in range(3):  # a port from port 0 can be taken before HAProxy binds it
            self.haproxy = self.spawn(f"haproxy{attempt or ''}", ["bash", f"{ROOT}/docker/entry/haproxy.sh", "run"])
            wait_for(30, lambda: not self.haproxy.running() or "Pid:" in hap_cmd(self.admin, "show info"))
            if self.haproxy.running() or "Address already in use" not in self.haproxy.tail():
                break
            self.mcs_port = free_port()
            self.env["MCS_PORT"] = str(self.mcs_port)
        if not wait_for(1, lambda: "Pid:" in hap_cmd(self.admin, "show info")):
            raise Fail("HAProxy not ready on admin.sock within 30 s:\n" + self.haproxy.tail())
        for _ in range(NODES_START):
            self.node_start()
        self.thread(self.heartbeat_loop)
        self.controller = self.spawn("controller", self.daemon_argv("controller"))
        self.bridge = self.spawn("bridge", self.daemon_argv("bridge"))
        names = {n.name for n in self.nodes}
        if not wait_for(20 * self.slow, lambda: self.all_ready(names), step=0.2):
            raise Fail("the first nodes are not all ready servers within %.0f s:\n%s" %
                       (20 * self.slow, self.controller.tail()))
        if not wait_for(20 * self.slow, lambda: self.scrape() is not None, step=0.2):
            raise Fail("/metrics does not answer:\n" + self.bridge.tail())
        # Clients verify the gateway's certificate (the dev pair: CN and SAN localhost).
        self.ctx = ssl.create_default_context(cafile=os.path.join(self.tls_dir, "server.cert"))
        say(f"gateway up in {self.dir}: redis :{self.redis_port}, TLS :{self.mcs_port}, /metrics :{self.prom_port}, "
            f"{len(self.nodes)} nodes{', daemons under valgrind' if self.valgrind else ''}")

    def spawn(self, name, argv):
        p = Proc(name, argv, self.env, self.logdir, log=say)
        self.procs.append(p)
        return p

    def daemon_argv(self, which):
        argv = [self.bin[which]]
        if self.valgrind:
            argv = ["valgrind", "--tool=memcheck", "--leak-check=full", "--show-leak-kinds=definite",
                    "--errors-for-leak-kinds=definite", "--error-exitcode=99", "--num-callers=30",
                    f"--log-file={self.logdir}/valgrind-{which}.log"] + argv
        return argv

    def redis_start(self):
        self.redis = self.spawn("redis", ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
                                          "--save", "", "--appendonly", "no", "--dir", self.dir,
                                          "--notify-keyspace-events", "Kz"])
        if not wait_for(10, lambda: Redis(self.redis_port, REDIS_TIMEOUT_S).cmd("PING") == "PONG"):
            raise Fail("redis-server not answering within 10 s:\n" + self.redis.tail())

    def node_start(self, port=0):
        """Starts a demo node (no Redis of its own: we heartbeat for it). Returns it, or None."""
        p = self.spawn(f"node{len(self.nodes)}", [self.bin["node"], "--listen", f"127.0.0.1:{port}"])
        port = node_port(p)
        if port is None:
            p.stop(2)
            return None
        n = Node(p, port)
        with self.lock:
            self.nodes.append(n)
        return n

    def all_ready(self, names):
        srv = hap_servers(self.stats)
        return all(n in srv and srv[n] == (2, 0) for n in names)

    # ---- threads

    def thread(self, fn, *args):
        """A daemon thread whose unexpected exception fails the soak instead of vanishing."""
        def body():
            try:
                fn(*args)
            except Exception as e:  # noqa: BLE001 - any escape is a soak bug worth seeing
                self.errors.append(f"thread {fn.__name__}{args}: {type(e).__name__}: {e}")
                say(f"ERROR {self.errors[-1]}")
        th = threading.Thread(target=body, daemon=True)
        th.start()
        return th

    def heartbeat_loop(self):
        r = Redis(self.redis_port, REDIS_TIMEOUT_S)
        while not self.stop_watch.is_set():
            t = now()
            with self.lock:
                due = []
                for n in self.nodes:
                    if n.state == "flap" and t >= n.resume_at:
                        n.state, n.since = "live", t
                    if n.state == "killed" and t >= n.hb_until:
                        n.state, n.since = "dead", t
                    if n.state in ("live", "killed") and t >= n.next_hb:
                        n.next_hb += HB_PERIOD_S * (1 + (t - n.next_hb) // HB_PERIOD_S)
                        due.append(n.name)
            for name in due:
                try:
                    r.cmd("ZADD", "mcs:node", int(time.time()), name)
                    self.inc("hb_sent", 1)
                except OSError:
                    self.inc("hb_failed", 1)
            time.sleep(0.05)

    def note(self, msg):
        """One line per churn action in logs/churn.log (to read beside the controller's log)."""
        with open(os.path.join(self.logdir, "churn.log"), "a") as f:
            f.write(f"{now():7.1f}s {time.strftime('%H:%M:%S')}.{int(time.time() * 1000) % 1000:03d} {msg}\n")

    def event(self, kind):
        self.note(kind)
        with self.lock:
            self.events.append((now(), kind))
        say(kind)

    def serving(self):
        return [n for n in self.nodes if n.state in ("live", "flap")]

    def churn_step(self, r):
        t = now()
        with self.lock:
            live = [n for n in self.nodes if n.state == "live" and t - n.since > 1]
            flapping = sum(1 for n in self.nodes if n.state == "flap")
            count = len(self.serving())
        choices = ["join", "leave", "flap", "flap"] if flapping < MAX_FLAPPING else ["join", "leave"]
        act = "join" if count < NODES_MIN else "leave" if count >= NODES_MAX else random.choice(choices)
        if act == "join":
            self.join()
        elif live:
            n = random.choice(live)
            with self.lock:
                n.since = t
                if act == "leave":
                    n.state, what = "left", "leaves (heartbeat stops, keeps serving)"
                    self.inc("leaves", 1)
                elif random.random() < 0.5:   # heartbeat pause of 3-9 s: a hiccup, or a drain and back
                    n.state, n.resume_at = "flap", t + random.uniform(3, 9)
                    what = f"flaps: heartbeat paused until t={n.resume_at:.1f}s"
                    self.inc("flaps_pause", 1)
                else:                         # removed (an operator, a node restart), back 1 s later
                    n.state, n.resume_at = "flap", t + 1
                    what = "flaps: ZREM, heartbeat again in 1 s"
                    self.inc("flaps_zrem", 1)
                n.next_hb = max(n.next_hb, n.resume_at)
            self.note(f"{n.name} {what}")
            if act == "flap" and n.resume_at - t < 1.5:
                try:
                    r.cmd("ZREM", "mcs:node", n.name)
                except OSError:
                    pass
        self.retire_left()

    def join(self):
        with self.lock:
            ports = [n.port for n in self.nodes if n.state == "retired" and not n.reused]
        n = None
        if ports and random.random() < 0.5:
            port = random.choice(ports)
            n = self.node_start(port)
            if n:
                self.inc("joins_reused_port", 1)
                with self.lock:
                    for m in self.nodes:
                        if m.port == port and m.state == "retired":
                            m.reused = True
        n = n or self.node_start()
        if n:
            self.inc("joins", 1)
            self.note(f"{n.name} joins (new process)")

    def retire_left(self):
        """Stops a left node's process once HAProxy no longer has it and no client is on it."""
        try:
            srv = hap_servers(self.stats)
        except (OSError, ValueError):
            return
        t = now()
        with self.lock:
            held = set(self.sessions.values())
            gone = [n for n in self.nodes if n.state == "left" and t - n.since > TTL_S + 2
                    and n.name not in srv and n.name not in held]
            for n in gone:
                n.state, n.since = "retired", t
        for n in gone:
            n.proc.stop(5)
            self.inc("retired", 1)
            self.note(f"{n.name} retired (process stopped: gone from HAProxy, no held session)")

    def churn_loop(self):
        r = Redis(self.redis_port, REDIS_TIMEOUT_S)
        nxt = now()
        while not self.stop_churn.is_set():
            self.churn_step(r)
            nxt += 1.0
            self.stop_churn.wait(max(0.0, nxt - now()))

    def ops_loop(self, start):
        cycle = min(CYCLE_S, self.seconds)
        plan = [(0.20, self.reload_script), (0.35, self.kill_node), (0.50, self.restart_redis),
                (0.65, self.reload_script), (0.80, self.reload_usr2)]
        k = 0
        while True:
            at = start + (k // len(plan)) * cycle + plan[k % len(plan)][0] * cycle
            if at > start + self.seconds - 10 or self.stop_churn.wait(max(0.0, at - now())):
                return
            try:
                plan[k % len(plan)][1]()
            except (OSError, ValueError, Fail, subprocess.SubprocessError) as e:
                self.errors.append(f"{plan[k % len(plan)][1].__name__}: {e}")
                say(f"ERROR {self.errors[-1]}")
            k += 1

    def reload_script(self):
        self.inc("reloads_script", 1)
        self.event(f"reload #{self.c['reloads_script'] + self.c['reloads_usr2']}: docker/entry/haproxy.sh reload")
        p = subprocess.run(["bash", f"{ROOT}/docker/entry/haproxy.sh", "reload"], env=self.env,
                           capture_output=True, text=True, timeout=60)
        say(f"  haproxy.sh reload: exit {p.returncode}: {(p.stdout + p.stderr).strip()}")
        if p.returncode != 0:
            raise Fail(f"haproxy.sh reload exited {p.returncode}")
        self.check_alive("haproxy")

    def reload_usr2(self):
        self.inc("reloads_usr2", 1)
        self.event(f"reload #{self.c['reloads_script'] + self.c['reloads_usr2']}: kill -USR2 master {self.haproxy.pid}")
        self.haproxy.send(signal.SIGUSR2)
        self.check_alive("haproxy")

    def check_alive(self, what):
        time.sleep(1)
        if not self.haproxy.running():
            raise Fail(f"HAProxy master exited after the {what} reload:\n{self.haproxy.tail()}")

    def kill_node(self):
        with self.lock:
            live = [n for n in self.nodes if n.state == "live"]
            held = list(self.sessions.values())
        if not live:
            return
        n = max(live, key=lambda n: held.count(n.name))
        with self.lock:
            n.state, n.since, n.hb_until = "killed", now(), now() + KILLED_HB_S
        n.proc.p.send_signal(signal.SIGKILL)
        n.proc.p.wait(5)
        self.inc("kills", 1)
        self.event(f"node {n.name} killed (SIGKILL, {held.count(n.name)} held sessions on it), "
                   f"heartbeat goes on {KILLED_HB_S} s")

    def restart_redis(self):
        self.inc("redis_restarts", 1)
        self.event(f"redis restart #{self.c['redis_restarts']} (stop, 2 s down, start on :{self.redis_port})")
        rc = self.redis.stop(10)
        time.sleep(2)
        self.redis_start()
        say(f"  redis back (old exit {rc})")

    # ---- clients

    def tls_open(self):
        raw = socket.create_connection(("127.0.0.1", self.mcs_port), timeout=IO_TIMEOUT_S)
        try:
            s = self.ctx.wrap_socket(raw, server_hostname="localhost")
        except BaseException:
            raw.close()
            raise
        try:
            line = self.readline(s)
            if not line.startswith("HELLO 127.0.0.1:"):
                raise OSError(f"greeting {line!r}")
            return s, line.split()[1]
        except BaseException:
            s.close()
            raise

    @staticmethod
    def readline(s):
        buf = b""
        while not buf.endswith(b"\n"):
            b = s.recv(256)
            if not b:
                raise OSError("connection closed" + (f" after {buf!r}" if buf else ""))
            buf += b
            if len(buf) > 1024:
                raise OSError("line too long")
        return buf.decode(errors="replace").rstrip("\n")

    def echo(self, s, msg):
        s.sendall(msg.encode() + b"\n")
        got = self.readline(s)
        if got != msg:
            raise OSError(f"echo {got!r} for {msg!r}")

    def near(self, t):
        with self.lock:
            return ", ".join(f"{k} ({t - e:+.1f}s)" for e, k in self.events if 0 <= t - e <= WINDOW_S)

    def nearest(self, t):
        """The latest event at most WINDOW_S before t, without its details, or 'no event near'."""
        with self.lock:
            near = [k for e, k in self.events if 0 <= t - e <= WINDOW_S]
        return re.sub(r" \(.*|: .*|node \S+ ", "", near[-1]) if near else "no event near"

    def new_failure(self, what, e):
        t = now()
        with self.lock:
            healthy = sum(1 for n in self.nodes if n.state == "live" and n.proc.running())
            self.inc("new_failed" if healthy else "new_failed_no_healthy")
            self.failures.append(f"t={t:.1f}s {what}: {type(e).__name__}: {e} [{self.near(t) or 'no event near'}]")
            self.failure_causes[self.nearest(t)] = self.failure_causes.get(self.nearest(t), 0) + 1

    def connector_loop(self, i):
        k = 0
        while not self.stop_clients.is_set():
            self.inc("opened", 1)
            try:
                s, _ = self.tls_open()
                with s:
                    self.echo(s, f"c{i}-{k}")
                self.inc("new_ok", 1)
            except (OSError, ssl.SSLError) as e:
                self.new_failure("new connection", e)
            k += 1
            self.stop_clients.wait(CONNECT_GAP_S)

    def held_loop(self, i):
        k = 0
        while not self.stop_clients.is_set():
            self.inc("opened", 1)
            try:
                s, node = self.tls_open()
            except (OSError, ssl.SSLError) as e:
                self.new_failure("held session open", e)
                self.stop_clients.wait(1)
                continue
            sid, t_open, life = f"h{i}-{k}", now(), random.uniform(*SESSION_S)
            k += 1
            self.inc("new_ok", 1)
            self.inc("held_started", 1)
            with self.lock:
                self.sessions[sid] = node
            broken, n = None, 0
            with s:
                while now() - t_open < life and not self.stop_clients.wait(1):
                    try:
                        self.echo(s, f"{sid}-{n}")
                        n += 1
                    except (OSError, ssl.SSLError) as e:
                        broken = e
                        break
            self.held_end(sid, node, t_open, n, broken)

    def held_end(self, sid, node, t_open, msgs, broken):
        t = now()
        with self.lock:
            del self.sessions[sid]
            n = next((n for n in reversed(self.nodes) if n.name == node), None)
            kinds = [k for e, k in self.events if t_open < e < t]
            left = n is not None and (n.state != "live" or n.since > t_open)
            killed = n is not None and n.state in ("killed", "dead")
        if broken is None:
            self.inc("held_survived", 1)
            self.inc("survived_drain", left)
            self.inc("survived_reload", any(k.startswith("reload") for k in kinds))
            self.inc("survived_redis", any(k.startswith("redis") for k in kinds))
        elif killed:
            self.inc("killed_lost", 1)
        else:
            self.inc("held_broken", 1)
            with self.lock:
                self.failures.append(f"t={t:.1f}s held session {sid} on {node} (node {n.state if n else '?'}, "
                                     f"opened t={t_open:.1f}s, {msgs} echoes) broke: {type(broken).__name__}: "
                                     f"{broken} [{self.near(t) or 'no event near'}]")
                self.failure_causes[self.nearest(t)] = self.failure_causes.get(self.nearest(t), 0) + 1

    # ---- watchers: /metrics, RSS, spurious drains

    def scrape(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.prom_port}/metrics", timeout=IO_TIMEOUT_S) as r:
                if r.status != 200:
                    return None
                text = r.read().decode()
        except OSError:
            return None
        types, samples = {}, {}
        for line in text.splitlines():
            if line.startswith("# TYPE "):
                _, _, name, typ = line.split(None, 3)
                types[name] = typ
            elif line and not line.startswith("#"):
                m = re.match(r"([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)", line)
                if m:
                    samples[(m.group(1), m.group(2) or "")] = float(m.group(3))
        return types, samples

    def check_counters(self, types, samples):
        t = now()
        for (name, labels), v in samples.items():
            if not (types.get(name) == "counter" or name.endswith("_total")
                    or name in ("lb_total_connections", "lb_backend_health_check_failures")):
                continue
            key = name + labels
            prev = self.counters.get(key)
            if prev is not None and v < prev:
                self.decreases.append(f"t={t:.1f}s {key}: {prev:g} -> {v:g} [{self.near(t) or 'no event near'}]")
            self.counters[key] = v
        if samples.get(("lb_haproxy_up", "")) == 0:
            self.inc("haproxy_up_0", 1)
        if samples.get(("lb_controller_up", "")) == 0:
            self.inc("controller_up_0", 1)

    def watch_loop(self):
        nxt = now()
        while not self.stop_watch.is_set():
            got = self.scrape()
            self.inc("scrapes", 1)
            if got is None:
                self.inc("scrape_failed", 1)
                say("a /metrics scrape failed")
            else:
                self.check_counters(*got)
            self.rss.append((now(), rss_kb(self.controller.pid), rss_kb(self.bridge.pid),
                             fd_count(self.controller.pid), fd_count(self.bridge.pid)))
            nxt += 1.0
            self.stop_watch.wait(max(0.0, nxt - now()))

    def drains_loop(self):
        """4 times a second: a node that heartbeat throughout (live for over TTL + 2 s) but whose
        server is drained or missing is a spurious drain or removal; counted once per episode."""
        active = set()
        while not self.stop_watch.wait(0.25):
            try:
                srv = hap_servers(self.stats)
            except (OSError, ValueError):
                continue
            t = now()
            with self.lock:
                steady = {n.name for n in self.nodes if n.state == "live" and t - n.since > TTL_S + 2}
            seen = set()
            for name in steady:
                what = "drained" if name in srv and srv[name][1] & 0x08 else "missing" if name not in srv else None
                if what:
                    seen.add((name, what))
                    if (name, what) not in active:
                        self.inc("spurious_drains" if what == "drained" else "spurious_removals")
                        if len(self.spurious) < 30:
                            self.spurious.append(f"t={t:.1f}s {name} {what} [{self.near(t) or 'no event near'}]")
            active = seen

    # ---- run

    def run(self):
        self.setup()
        threads = [self.thread(self.watch_loop), self.thread(self.drains_loop)]
        threads += [self.thread(self.held_loop, i) for i in range(HELD)]
        threads += [self.thread(self.connector_loop, i) for i in range(CONNECTORS)]
        time.sleep(5)  # the held sessions spread over the nodes before the churn begins
        start = now()
        say(f"churn for {self.seconds:.0f} s")
        churn, ops = self.thread(self.churn_loop), self.thread(self.ops_loop, start)
        # RSS/fd samples of the churn only; the first 20% are warm-up.
        self.churn_window = (start, start + self.seconds)
        while now() < start + self.seconds:
            time.sleep(0.5)
            for p in (self.controller, self.bridge, self.haproxy):
                if not p.running():
                    raise Fail(f"{p.name} exited during the churn ({p.p.returncode}):\n{p.tail()}")
        self.stop_churn.set()
        churn.join(30)
        ops.join(90)
        self.settle()
        self.stop_clients.set()
        for th in threads[2:]:
            th.join(20)
        self.final_check()
        self.stop_watch.set()
        for th in threads[:2]:
            th.join(20)

    def settle(self):
        """Churn over: flapping nodes heartbeat again, a killed node's heartbeat stops."""
        t = now()
        with self.lock:
            for n in self.nodes:
                if n.state == "flap":
                    n.state, n.since, n.next_hb = "live", t, t
                elif n.state == "killed":
                    n.state, n.since = "dead", t
        say("churn stopped; settling")

    def final_check(self):
        expect = {n.name for n in self.nodes if n.state == "live"}
        self.final = {}

        def settled():
            srv = hap_servers(self.stats)
            live = live_set(self.r)
            self.final = {"haproxy": set(srv), "redis": live, "not_ready": {k for k, v in srv.items() if v != (2, 0)}}
            return set(srv) == live == expect and not self.final["not_ready"]
        ok = wait_for((TTL_S + 25) * self.slow, settled, step=0.25)
        t_settled = now()
        held = ok and all(time.sleep(0.25) or settled() for _ in range(12))  # and stays so for 3 s
        srv_file = set()
        try:
            with open(os.path.join(self.run_dir, "servers.cfg")) as f:
                srv_file = {ln.split()[1] for ln in f if ln.split()[:1] == ["server"]}
        except OSError as e:
            self.errors.append(f"servers.cfg: {e}")
        self.final.update(expect=expect, servers_cfg=srv_file, ok=ok and held, t=t_settled)

    # ---- report

    def asan(self):
        """True when the daemons are AddressSanitizer builds."""
        try:
            with open(self.bin["bridge"], "rb") as f:
                return b"__asan_init" in f.read()
        except OSError:
            return False

    def rss_check(self):
        s, e = self.churn_window
        warm = s + 0.2 * (e - s)
        mid = (warm + e) / 2
        out, ok = [], True
        for idx, name, tol in ((1, "controller RSS", 1024), (2, "bridge RSS", 1024), (3, "controller fds", 6),
                               (4, "bridge fds", 6)):
            first = [r[idx] for r in self.rss if warm <= r[0] < mid and r[idx] is not None]
            second = [r[idx] for r in self.rss if mid <= r[0] <= e and r[idx] is not None]
            if not first or not second:
                out.append(f"{name}: not enough samples")
                ok = False
                continue
            unit = " KB" if "RSS" in name else ""
            allowed = max(first) + max(tol, max(first) // 10 if unit else 0)
            flat = max(second) <= allowed
            # valgrind and AddressSanitizer (its quarantine keeps freed memory) inflate RSS: their
            # own leak checks judge memory there, RSS is only reported.
            exempt = "valgrind" if self.valgrind else "ASan" if unit and self.asan() else ""
            ok &= flat or bool(exempt)
            out.append(f"{name}: first sample {self.rss[0][idx]}{unit}, after warm-up {first[0]}{unit}, "
                       f"max first half {max(first)}{unit}, max second half {max(second)}{unit}, last "
                       f"{second[-1]}{unit} -> {'flat' if flat else 'GREW'} (allowed {allowed}{unit})"
                       f"{f' [not asserted under {exempt}]' if exempt and not flat else ''}")
        return ok, out

    def report(self, stop_status):
        c, f = self.c, self.final
        rss_ok, rss_lines = self.rss_check()
        checks = [
            ("new connections failed while a node was healthy == 0", c["new_failed"] == 0),
            ("held sessions broken (not on the killed node) == 0", c["held_broken"] == 0),
            ("final HAProxy servers == live Redis set == soak's live nodes, all ready", f.get("ok", False)),
            ("servers.cfg lists exactly the final servers", f.get("servers_cfg") == f.get("expect")),
            ("no /metrics counter decreased", not self.decreases),
            ("every /metrics scrape answered 200", c["scrape_failed"] == 0),
            ("controller and bridge RSS and fds flat", rss_ok),
            ("controller and bridge exit 0 on SIGTERM" + (" (valgrind: no error, no definite leak)"
                                                            if self.valgrind else ""), stop_status[0]),
            ("every reload and restart went through", not self.errors),
            ("no node that heartbeat throughout was drained or removed (e.g. after a Redis restart)",
             c["spurious_drains"] == 0 and c["spurious_removals"] == 0),
        ]
        print("\n==== soak summary ====")
        print(f"churn {self.seconds:.0f} s{' under valgrind' if self.valgrind else ''}; poll {POLL_MS} ms, TTL "
              f"{TTL_S} s, drain timeout {DRAIN_TIMEOUT_S} s, check inter 1 s; heartbeat every {HB_PERIOD_S:.0f} s")
        print(f"nodes: {NODES_START} at start, {NODES_MIN}-{NODES_MAX} serving; joined {c['joins']} "
              f"({c['joins_reused_port']} on a retired node's port), left gracefully {c['leaves']}, "
              f"flaps {c['flaps_pause'] + c['flaps_zrem']} ({c['flaps_pause']} heartbeat pauses of 3-9 s, "
              f"{c['flaps_zrem']} ZREM + back after 1 s), killed outright {c['kills']}, retired {c['retired']}; "
              f"heartbeats {c['hb_sent']} sent, {c['hb_failed']} failed (Redis down)")
        print(f"faults: HAProxy reloads {c['reloads_script'] + c['reloads_usr2']} ({c['reloads_script']} haproxy.sh "
              f"reload, {c['reloads_usr2']} plain kill -USR2), Redis restarts {c['redis_restarts']}")
        print(f"clients: connections opened {c['opened']}, succeeded {c['new_ok']}, failed {c['new_failed']} "
              f"(+{c['new_failed_no_healthy']} with no healthy node)")
        print(f"held sessions: {c['held_started']} started, {c['held_survived']} survived to their end "
              f"({c['survived_drain']} across their node's drain or flap, {c['survived_reload']} across a reload, "
              f"{c['survived_redis']} across a Redis restart), {c['held_broken']} broken, {c['killed_lost']} lost "
              f"with the killed node (expected)")
        print(f"final (settled at t={f.get('t', 0):.1f}s): HAProxy {len(f.get('haproxy', ()))} servers, live Redis "
              f"{len(f.get('redis', ()))}, soak live {len(f.get('expect', ()))}, servers.cfg "
              f"{len(f.get('servers_cfg', ()))}; not ready {sorted(f.get('not_ready', ()))}; "
              f"leaked {sorted(f.get('haproxy', set()) - f.get('expect', set()))}; "
              f"missing {sorted(f.get('expect', set()) - f.get('haproxy', set()))}")
        for line in rss_lines:
            print(line)
        print(f"metrics: {c['scrapes']} scrapes, {c['scrape_failed']} failed, {len(self.counters)} counter series, "
              f"{len(self.decreases)} decreases; lb_haproxy_up 0 in {c['haproxy_up_0']} scrapes, "
              f"lb_controller_up 0 in {c['controller_up_0']}")
        print(f"nodes that heartbeat throughout but were drained: {c['spurious_drains']}, removed from HAProxy: "
              f"{c['spurious_removals']} (episodes, 250 ms samples)")
        if self.failure_causes:
            print("failures by the latest event within %.0f s: %s" % (WINDOW_S, ", ".join(
                f"{k}: {v}" for k, v in sorted(self.failure_causes.items()))))
        for title, items in (("failures", self.failures), ("counter decreases", self.decreases),
                             ("spurious drains or removals", self.spurious), ("errors", self.errors + stop_status[1])):
            if items:
                print(f"-- {title} ({len(items)}):")
                for it in items[:25]:
                    print("   " + it)
        print("-- checks:")
        for text, good in checks:
            print(f"   [{'ok' if good else 'FAIL'}] {text}")
        return all(good for _, good in checks)

    def stop_daemons(self):
        """SIGTERM the bridge and the controller; both must exit 0 (valgrind: 99 on an error)."""
        ok, notes = True, []
        for p in (self.bridge, self.controller):
            rc = p.stop(120 if self.valgrind else 10)
            if rc != 0:
                ok = False
                notes.append(f"{p.name} exited {rc} on SIGTERM")
            if self.valgrind:
                vlog = f"{self.logdir}/valgrind-{p.name}.log"
                try:
                    with open(vlog) as f:
                        text = f.read()
                except OSError as e:
                    ok, text = False, ""
                    notes.append(f"{vlog}: {e}")
                summ = re.findall(r"ERROR SUMMARY: (\d+) errors", text)
                lost = re.findall(r"definitely lost: ([\d,]+) bytes", text)
                say(f"valgrind {p.name}: ERROR SUMMARY {summ[-1] if summ else '?'} errors, definitely lost "
                    f"{lost[-1] if lost else '0'} bytes" + (", all heap blocks freed"
                                                           if "All heap blocks were freed" in text else ""))
                if not summ or summ[-1] != "0" or (lost and lost[-1] != "0"):
                    ok = False
                    notes.append(f"valgrind {p.name}: see {vlog}\n{text[-6000:]}")
        return ok, notes

    def teardown(self):
        self.stop_churn.set()
        self.stop_clients.set()
        self.stop_watch.set()
        for p in reversed(self.procs):
            p.stop(10)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="meson build directory")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    need = ["haproxy", "redis-server", "openssl", "socat"]
    if os.environ.get("SOAK_VALGRIND", "") not in ("", "0"):
        need.append("valgrind")
    path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    missing = [p for p in need if not shutil.which(p, path=path)]
    if missing:
        print(f"soak: missing {' '.join(missing)}", flush=True)
        return 1 if os.environ.get("CI") == "true" else 77
    seed = int(os.environ.get("SOAK_SEED", str(int(time.time()))))
    random.seed(seed)
    def on_term(*_):  # meson's timeout: say where every thread was, then tear down
        faulthandler.dump_traceback(all_threads=True)
        sys.exit(1)
    signal.signal(signal.SIGTERM, on_term)
    soak = Soak(args)
    ok = False
    try:  # SystemExit (SIGTERM) too: the verdict line is printed whatever happens
        say(f"seed {seed}")
        soak.run()
        ok = soak.report(soak.stop_daemons())
    except (Fail, OSError, ValueError, subprocess.SubprocessError) as e:
        print(f"soak: {type(e).__name__}: {e}", flush=True)
    finally:
        soak.teardown()
        if not ok:
            for p in soak.procs:
                if p.name in ("controller", "bridge", "haproxy", "redis"):
                    print(f"---- {p.log} (tail)\n{p.tail(60)}", flush=True)
        if getattr(soak, "dir", None):
            if ok and not soak.keep:
                shutil.rmtree(soak.dir, ignore_errors=True)
            else:
                print(f"soak: logs kept in {soak.dir}", flush=True)
        print(f"soak: {'PASS' if ok else 'FAIL'}", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
