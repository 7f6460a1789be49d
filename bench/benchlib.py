#!/usr/bin/env python3
"""Measuring side of the control-plane benchmarks (bench/bench_*.sh start the servers, this
drives them): stand-in chat nodes, their heartbeats, real TLS clients through the gateway, and
HAProxy's view over its read-only stats socket. Standard library only, loopback only, every
loop bounded. Figures go to stdout as `key=value` lines (the shell scripts copy them to
BENCH_OUT); explanations go to stderr.

  benchlib.py discovery  ...   ZADD -> ready server / first TLS client routed to the new node
  benchlib.py failover   ...   heartbeat stops -> no new client; port dies -> marked down
  benchlib.py reload     ...   reloads under TLS client load: clients refused, time to full set
  benchlib.py summary FILE     the table of every figure against its goal (run.sh)
"""
import argparse
import math
import os
import random
import selectors
import socket
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from mcs_lib import Redis, hap_cmd, hap_servers  # noqa: E402


def note(msg):
    print("  " + msg, file=sys.stderr, flush=True)


def emit(key, value):
    if isinstance(value, float):
        value = "%.3f" % value
    print("%s=%s" % (key, value), flush=True)


def pct(values, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    v = sorted(values)
    return v[max(0, min(len(v) - 1, math.ceil(p / 100.0 * len(v)) - 1))]


# ---------------------------------------------------------------- HAProxy stats socket
def hap_pid(sock_path):
    """The answering worker's Pid, or None while no worker answers."""
    try:
        for line in hap_cmd(sock_path, "show info", 1.0).splitlines():
            if line.startswith("Pid: "):
                return int(line[5:])
    except OSError:
        pass
    return None


ADMF_MAINT = 0x01 | 0x02 | 0x04 | 0x20 | 0x40
ADMF_DRAIN = 0x08 | 0x10


def servers(sock_path, timeout=5.0):
    """name -> (op_state, admin_state, uweight) of backend mcs; {} when HAProxy does not answer."""
    try:
        return hap_servers(sock_path, "mcs", ("srv_op_state", "srv_admin_state", "srv_uweight"), timeout)
    except (OSError, ValueError):
        return {}


def takes_clients(state):
    """A server HAProxy may give a new client: running, not in maintenance or drain, weight > 0."""
    return state is not None and state[0] == 2 and not state[1] & (ADMF_MAINT | ADMF_DRAIN) and state[2] > 0


# ---------------------------------------------------------------- stand-in chat nodes
class Backends:
    """Listeners on 127.0.0.1 that greet each client with "HELLO 127.0.0.1:<port>\\n" and echo,
    like mcs-lb-demo-node, all served by one thread. close(name) shuts one listener only (its
    port then refuses connections; accepted connections go on)."""

    def __init__(self, count):
        self.sel = selectors.DefaultSelector()
        self.listeners = {}
        self.names = []
        for _ in range(count):
            ls = socket.socket()
            ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            ls.bind(("127.0.0.1", 0))
            ls.listen(512)
            ls.setblocking(False)
            name = "127.0.0.1:%d" % ls.getsockname()[1]
            self.listeners[name] = ls
            self.names.append(name)
            self.sel.register(ls, selectors.EVENT_READ, ("listen", name))
        self.to_close = []
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def close(self, name):
        self.to_close.append(name)

    def stop(self):
        self.stopping = True
        self.thread.join(2)

    def _run(self):
        while not self.stopping:
            while self.to_close:
                name = self.to_close.pop()
                ls = self.listeners.pop(name, None)
                if ls is not None:
                    self.sel.unregister(ls)
                    ls.close()
            for key, _ in self.sel.select(0.005):
                kind, name = key.data
                if kind == "listen":
                    try:
                        c, _ = key.fileobj.accept()
                    except OSError:
                        continue
                    c.setblocking(False)
                    try:
                        c.send(("HELLO %s\n" % name).encode())
                    except OSError:
                        c.close()
                        continue
                    self.sel.register(c, selectors.EVENT_READ, ("conn", name))
                else:
                    try:
                        d = key.fileobj.recv(65536)
                    except OSError:
                        d = b""
                    if d:
                        try:
                            key.fileobj.send(d)
                            continue
                        except OSError:
                            pass
                    self.sel.unregister(key.fileobj)
                    key.fileobj.close()


class Heartbeats:
    """ZADD <key> <Redis TIME seconds> <member> every interval for the members in `live`, the way
    the chat nodes heartbeat. Keeps each member's last score and the wall time of its last ZADD."""

    def __init__(self, redis_port, key, interval_ms):
        self.r = Redis(redis_port)
        self.key, self.interval = key, interval_ms / 1000.0
        self.live = set()
        self.last = {}  # member -> (score, wall time the ZADD was answered)
        self.lock = threading.Lock()
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def beat(self, members):
        now = self.r.time()
        self.r.pipeline(*[("ZADD", self.key, now, m) for m in members])
        t = time.time()
        with self.lock:
            for m in members:
                self.last[m] = (now, t)

    def start(self, member):
        with self.lock:
            self.live.add(member)
        self.beat([member])

    def stop_after_next_beat(self, member, timeout=5.0):
        """Lets one more heartbeat of member happen, then stops it; returns (score, wall time)."""
        with self.lock:
            before = self.last.get(member)
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if self.last.get(member) != before:
                    self.live.discard(member)
                    return self.last[member]
            time.sleep(0.001)
        with self.lock:
            self.live.discard(member)
            return self.last[member]

    def stop(self):
        self.stopping = True
        self.thread.join(2)

    def _run(self):
        nxt = time.time()
        while not self.stopping:
            nxt += self.interval
            with self.lock:
                members = sorted(self.live)
            if members:
                try:
                    self.beat(members)
                except OSError as e:
                    note("heartbeat failed: %s" % e)
            time.sleep(max(0.0, nxt - time.time()))


# ---------------------------------------------------------------- TLS clients
CTX = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE


def tls_client(port, hold_s=0.0, timeout=2.0):
    """One chat client through the gateway: connect, full TLS handshake, read the node's greeting.
    Returns (start, end, node or None, error or None); end is when the greeting arrived."""
    t0 = time.time()
    raw = None
    try:
        raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        s = CTX.wrap_socket(raw, server_hostname="localhost")
        raw = s
        data = b""
        while b"\n" not in data:
            d = s.recv(256)
            if not d:
                break
            data += d
        t1 = time.time()
        line = data.decode(errors="replace").strip()
        if not line.startswith("HELLO "):
            return (t0, t1, None, "no greeting (%r)" % line[:40])
        if hold_s:
            time.sleep(hold_s)
        return (t0, t1, line[6:], None)
    except (OSError, ssl.SSLError) as e:
        return (t0, time.time(), None, type(e).__name__ + ": " + str(e)[:60])
    finally:
        if raw is not None:
            raw.close()


class ClientPool:
    """`threads` clients connecting one after another through the gateway, each holding its
    session hold_ms; every attempt is recorded as (start, end, node, error)."""

    def __init__(self, port, threads, hold_ms, max_s):
        self.port, self.hold = port, hold_ms / 1000.0
        self.events = []
        self.stopping = False
        self.deadline = time.time() + max_s
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]
        for t in self.threads:
            t.start()

    def _run(self):
        while not self.stopping and time.time() < self.deadline:
            self.events.append(tls_client(self.port, self.hold))

    def stop(self):
        self.stopping = True
        for t in self.threads:
            t.join(5)

    def window(self, t0, t1):
        return [e for e in self.events if t0 <= e[0] <= t1]


def failures(events):
    return [e for e in events if e[3] is not None]


def wait_for(what, cond, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.01)
    raise SystemExit("bench: %s not within %.0f s" % (what, timeout))


# ---------------------------------------------------------------- ZADD -> first client routed
def cmd_discovery(a):
    r = Redis(a.redis_port)
    be = Backends(a.samples + 1)
    names = be.names
    # A first node, so every sample replaces a serving node (ZREM old + ZADD new in one MULTI):
    # a client reaching the new node proves it was routed there; the old one is drained in the
    # same step (MCS_MASS_REMOVAL_PCT=100 lets a one-node set change).
    r.cmd("ZADD", a.key, r.time(), names[0])
    wait_for("the first node routed", lambda: tls_client(a.gw_port)[2] == names[0], 15)
    ready, routed = [], []
    for i in range(1, len(names)):
        # A random pause spanning a whole poll interval: each ZADD lands at a random phase of the
        # controller's polling (a fixed pause would lock onto it and bias the polling figures).
        time.sleep(0.15 + random.uniform(0, a.gap_ms / 1000.0))
        new, old = names[i], names[i - 1]
        t0 = time.time()
        r.pipeline(("MULTI",), ("ZREM", a.key, old), ("ZADD", a.key, r.time(), new), ("EXEC",))
        t_ready = t_routed = None
        deadline = t0 + 10
        while (t_ready is None or t_routed is None) and time.time() < deadline:
            if t_ready is None and takes_clients(servers(a.stats_sock).get(new)):
                t_ready = time.time()
            if t_routed is None:
                res = tls_client(a.gw_port, timeout=1.0)
                if res[2] == new:
                    t_routed = res[1]
        if t_ready is None or t_routed is None:
            raise SystemExit("bench: node %s not routed within 10 s" % new)
        ready.append((t_ready - t0) * 1000)
        routed.append((t_routed - t0) * 1000)
    be.stop()
    p = a.prefix
    emit(p + "_samples", len(routed))
    emit(p + "_ready_p50_ms", pct(ready, 50))
    emit(p + "_ready_p99_ms", pct(ready, 99))
    emit(p + "_routed_p50_ms", pct(routed, 50))
    emit(p + "_routed_p99_ms", pct(routed, 99))
    emit(p + "_routed_max_ms", max(routed))


# ---------------------------------------------------------------- heartbeat stops / port dies
class StateWatch:
    """Polls `show servers state mcs` every ~5 ms and remembers when each server first met a
    condition."""

    def __init__(self, sock_path):
        self.sock = sock_path
        self.watch = {}  # name -> (predicate, time first true or None)
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def expect(self, name, predicate):
        self.watch[name] = (predicate, None)

    def seen(self, name):
        return self.watch[name][1]

    def _run(self):
        while not self.stopping:
            st = servers(self.sock, 2.0)
            t = time.time()
            for name, (pred, when) in list(self.watch.items()):
                if when is None and st and pred(st.get(name)):
                    self.watch[name] = (pred, t)
            time.sleep(0.005)

    def stop(self):
        self.stopping = True
        self.thread.join(3)


def cmd_failover(a):
    ttl = a.ttl_ms / 1000.0
    be = Backends(2 + a.samples + 1)
    steady, stops, dying = be.names[:2], be.names[2:2 + a.samples], be.names[-1]
    hb = Heartbeats(a.redis_port, a.key, a.hb_ms)
    for n in steady:
        hb.start(n)
    watch = StateWatch(a.stats_sock)
    pool = ClientPool(a.gw_port, a.clients, a.hold_ms, 600)

    def serving(name, timeout=20):
        wait_for("node %s serving" % name, lambda: takes_clients(servers(a.stats_sock).get(name)), timeout)
        t = time.time()
        wait_for("a client on node %s" % name, lambda: any(e[2] == name and e[0] > t for e in pool.events), timeout)

    for n in steady:
        serving(n)
    # Heartbeat stops: the node's last score + TTL is when it stops being live; the figure is
    # the time from its last heartbeat (score) until HAProxy stops giving it new clients.
    stop_ms, late, hits = [], 0, []
    for name in stops:
        hb.start(name)
        serving(name)
        time.sleep(random.uniform(0.5, 1.5))
        watch.expect(name, lambda s: not takes_clients(s))
        score, wall = hb.stop_after_next_beat(name)
        expiry = score + ttl
        wait_for("node %s out of rotation" % name, lambda n=name: watch.seen(n) is not None,
                 ttl + a.poll_ms / 1000.0 + 10)
        t_out = watch.seen(name)
        time.sleep(0.5)
        after = [e for e in pool.events if e[2] == name and e[0] > t_out]
        before = [e for e in pool.events if e[2] == name and wall <= e[0] <= t_out]
        last_client = max([e[1] for e in pool.events if e[2] == name] or [0])
        t_no_new = max(t_out, last_client)
        late += len(after)
        hits.append(len(before))
        stop_ms.append((t_no_new - score) * 1000)
        note("heartbeat stop %s: last ZADD %.3f s after its score; out of HAProxy's rotation %.0f ms "
             "after score + TTL; last client %.0f ms before that; %d clients reached it after its last "
             "heartbeat" % (name, wall - score, (t_out - expiry) * 1000, (t_out - last_client) * 1000,
                            len(before)))
    # Port dies: the node keeps heartbeating but its listener closes; HAProxy's health checks
    # mark it down, while the clients must never notice (retries + redispatch).
    hb.start(dying)
    serving(dying)
    # A server just added is barely up (health = rise): wait until its checks made it fully up,
    # so `fall` failed checks are needed, as for a node that has been serving for a while.
    time.sleep(3 * a.check_inter_ms / 1000.0 + 0.5)
    watch.expect(dying, lambda s: s is not None and s[0] == 0)
    t_close = time.time()
    be.close(dying)
    wait_for("node %s marked down" % dying, lambda: watch.seen(dying) is not None, 60)
    t_down = watch.seen(dying)
    time.sleep(1.0)
    pool.stop()
    hb.stop()
    watch.stop()
    be.stop()
    during = pool.window(t_close, t_down + 1.0)
    fails = failures(during)
    for e in fails[:5]:
        note("client failure while the port was dead: %s" % e[3])
    all_fails = failures(pool.events)
    emit("hbstop_samples", len(stop_ms))
    emit("hbstop_ttl_ms", a.ttl_ms)
    emit("hbstop_poll_ms", a.poll_ms)
    emit("hbstop_p50_ms", pct(stop_ms, 50))
    emit("hbstop_max_ms", max(stop_ms))
    emit("hbstop_late_clients", late)
    emit("hbstop_clients_min", min(hits))
    emit("portdie_down_ms", (t_down - t_close) * 1000)
    emit("portdie_clients", len(during))
    emit("portdie_failures", len(fails))
    emit("failover_clients_total", len(pool.events))
    emit("failover_failures_total", len(all_fails))


# ---------------------------------------------------------------- reload under load
def cmd_reload(a):
    be = Backends(a.nodes)
    hb = Heartbeats(a.redis_port, a.key, a.hb_ms)
    for n in be.names:
        hb.start(n)
    want = set(be.names)

    def complete():
        st = servers(a.stats_sock)
        return all(takes_clients(st.get(n)) for n in want)

    wait_for("all %d nodes serving" % a.nodes, complete, 30)
    pool = ClientPool(a.gw_port, a.clients, a.hold_ms, 600)
    time.sleep(1.0)
    back_ms, cmd_ms, windows = [], [], []
    for i in range(a.reloads):
        old = hap_pid(a.stats_sock)
        t0 = time.time()
        res = subprocess.run(a.reload_cmd, shell=True, capture_output=True, text=True, timeout=60)
        cmd_ms.append((time.time() - t0) * 1000)
        if res.returncode != 0:
            raise SystemExit("bench: reload command failed: %s" % (res.stderr.strip() or res.returncode))
        deadline = t0 + 30
        t_back = None
        while time.time() < deadline:
            pid = hap_pid(a.stats_sock)
            if pid is not None and pid != old and complete():
                t_back = time.time()
                break
            time.sleep(0.005)
        if t_back is None:
            raise SystemExit("bench: the node set was not complete 30 s after reload %d" % (i + 1))
        back_ms.append((t_back - t0) * 1000)
        windows.append((t0, t_back))
        time.sleep(a.gap_s)
    pool.stop()
    hb.stop()
    be.stop()
    fails = failures(pool.events)
    in_reload = [e for e in fails if any(w0 - 0.5 <= e[0] <= w1 + 0.5 for w0, w1 in windows)]
    for e in fails[:5]:
        note("client failure: %s" % e[3])
    emit("reload_nodes", a.nodes)
    emit("reload_count", len(back_ms))
    emit("reload_clients", len(pool.events))
    emit("reload_refused", len(fails))
    emit("reload_refused_in_window", len(in_reload))
    emit("reload_back_p50_ms", pct(back_ms, 50))
    emit("reload_back_max_ms", max(back_ms))
    emit("reload_cmd_p50_ms", pct(cmd_ms, 50))


# ---------------------------------------------------------------- the summary table
# (label, key, goal: ("le", number or key expression) / ("eq0",) / ("lt_key", other key) / None,
#  unit). A goal expression may add keys: "discovery_poll_poll_ms+100".
ROWS = [
    ("ZADD -> first client routed, notifications, p50", "discovery_notify_routed_p50_ms", None, "ms"),
    ("ZADD -> first client routed, notifications, p99", "discovery_notify_routed_p99_ms", ("le", "100"), "ms"),
    ("ZADD -> server ready in HAProxy, notifications, p99", "discovery_notify_ready_p99_ms", ("le", "100"), "ms"),
    ("ZADD -> first client routed, polling only, p50", "discovery_poll_routed_p50_ms", None, "ms"),
    ("ZADD -> first client routed, polling only, p99", "discovery_poll_routed_p99_ms",
     ("le", "discovery_poll_poll_ms+100"), "ms"),
    ("ZADD -> server ready in HAProxy, polling only, p99", "discovery_poll_ready_p99_ms",
     ("le", "discovery_poll_poll_ms+100"), "ms"),
    ("heartbeat stops -> no new client (from last score), p50", "hbstop_p50_ms", ("le", "hbstop_ttl_ms+100"), "ms"),
    ("heartbeat stops -> no new client (from last score), max", "hbstop_max_ms", ("le", "hbstop_ttl_ms+100"), "ms"),
    ("clients reaching a node after it left rotation", "hbstop_late_clients", ("eq0",), ""),
    ("node port dies -> HAProxy marks it down", "portdie_down_ms", None, "ms"),
    ("client-visible failures while the port was dead", "portdie_failures", ("eq0",), ""),
    ("cold start, 1,000 nodes -> HAProxy complete", "controller_1000_cold_s", ("le", "1"), "s"),
    ("cold start, 10,000 nodes -> HAProxy complete", "controller_10000_cold_s", ("le", "5"), "s"),
    ("steady state, 10,000 nodes: controller CPU", "controller_10000_cpu_pct", ("lt", "1"), "% core"),
    ("steady state, 10,000 nodes: controller RSS", "controller_10000_rss_mb", ("lt", "20"), "MB"),
    ("one /metrics scrape (mcs-lb-metrics) vs HAProxy exporter", "scrape_mcs_s", ("lt_key", "scrape_haproxy_s"), "s"),
    ("scrape size (mcs-lb-metrics) vs HAProxy exporter", "scrape_mcs_mb", ("cmp_key", "scrape_haproxy_mb"), "MB"),
    ("reload under load: clients refused", "reload_refused", ("eq0",), ""),
    ("reload -> full node set back in the new worker, max", "reload_back_max_ms", None, "ms"),
    ("capacity: memory per idle TLS client (RSS + whole machine's slab), gateway / bare",
     "cap_gateway_vs_bare_total", None, "x"),
    ("capacity: memory per idle TLS client (RSS + whole machine's slab), gateway / nginx",
     "cap_gateway_vs_nginx_total", None, "x"),
]


def load(path):
    kv = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                kv[k.strip()] = v.strip()
    return kv


def num(kv, expr):
    total = 0.0
    for part in expr.split("+"):
        part = part.strip()
        try:
            total += float(part)
        except ValueError:
            if part not in kv:
                return None
            total += float(kv[part])
    return total


def fmt(x):
    if x is None:
        return "-"
    if abs(x) >= 100 or x == int(x):
        return "%.0f" % x
    return "%.3g" % x


def cmd_summary(a):
    kv = load(a.file)
    rows, used = [], set()
    for label, key, goal, unit in ROWS:
        if key not in kv:
            continue
        used.add(key)
        v = float(kv[key])
        gtext, ratio, verdict = "-", "-", "-"
        if goal is not None:
            kind = goal[0]
            if kind == "eq0":
                gtext, verdict = "0", "met" if v == 0 else "NOT MET"
            elif kind in ("le", "lt"):
                g = num(kv, goal[1])
                if g is not None:
                    gtext = ("<= " if kind == "le" else "< ") + fmt(g)
                    ratio = "%.2f" % (v / g) if g else "-"
                    ok = v <= g if kind == "le" else v < g
                    verdict = "met" if ok else "NOT MET"
            elif kind in ("lt_key", "cmp_key"):
                g = num(kv, goal[1])
                if g is not None:
                    gtext = ("< " if kind == "lt_key" else "vs ") + fmt(g) + " (HAProxy)"
                    ratio = "%.2f" % (v / g) if g else "-"
                    if kind == "lt_key":
                        verdict = "met" if v < g else "NOT MET"
        rows.append((label, fmt(v) + (" " + unit if unit else ""), gtext, ratio, verdict))
    # Any benchmark can put a figure into the table itself: NAME=value with NAME.goal=<op><number>
    # (op: <=, <, >=, >, =), optionally NAME.label=text and NAME.unit=text.
    own = []
    ops = {"<=": lambda v, g: v <= g, ">=": lambda v, g: v >= g, "<": lambda v, g: v < g,
           ">": lambda v, g: v > g, "=": lambda v, g: v == g}
    for key in [k for k in kv if k.endswith(".goal")]:
        name, goal = key[:-5], kv[key].replace(" ", "")
        used.update((key, name + ".label", name + ".unit"))
        op = next((o for o in ("<=", ">=", "<", ">", "=") if goal.startswith(o)), None)
        if name not in kv or op is None:
            continue
        try:
            v, g = float(kv[name]), float(goal[len(op):])
        except ValueError:
            continue
        used.add(name)
        unit = kv.get(name + ".unit", "")
        ratio = "%.2f" % (v / g) if g else "-"
        own.append((kv.get(name + ".label", name), fmt(v) + (" " + unit if unit else ""),
                    op + " " + fmt(g), ratio, "met" if ops[op](v, g) else "NOT MET"))
    rows = own + rows  # the data plane runs first, its figures come first
    # Figures the table does not know are listed as they came.
    extra = [(k, v) for k, v in kv.items() if k not in used]
    if a.markdown:
        print("| figure | value | goal | ratio | verdict |")
        print("| --- | --- | --- | --- | --- |")
        for r in rows:
            print("| %s |" % " | ".join(r))
        if extra:
            print("\nEvery other figure of the run (`key=value` as the benchmarks wrote them):\n")
            print("```")
            for k, v in extra:
                print("%s=%s" % (k, v))
            print("```")
    else:
        w = max([len(r[0]) for r in rows] + [10])
        print("%-*s  %14s  %22s  %6s  %s" % (w, "figure", "value", "goal", "ratio", "verdict"))
        for r in rows:
            print("%-*s  %14s  %22s  %6s  %s" % (w, r[0], r[1], r[2], r[3], r[4]))
        if extra:
            print("\nother figures:")
            for k, v in extra:
                print("  %s=%s" % (k, v))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    def common(p):
        p.add_argument("--redis-port", type=int, required=True)
        p.add_argument("--gw-port", type=int, required=True)
        p.add_argument("--stats-sock", required=True)
        p.add_argument("--key", default="mcs:node")

    p = sub.add_parser("discovery")
    common(p)
    p.add_argument("--samples", type=int, default=20)
    p.add_argument("--prefix", default="discovery")
    p.add_argument("--gap-ms", type=int, default=300, help="random pause between samples, at most")
    p.set_defaults(fn=cmd_discovery)
    p = sub.add_parser("failover")
    common(p)
    p.add_argument("--samples", type=int, default=3)
    p.add_argument("--ttl-ms", type=int, required=True)
    p.add_argument("--poll-ms", type=int, required=True)
    p.add_argument("--check-inter-ms", type=int, default=3000)
    p.add_argument("--hb-ms", type=int, default=1000)
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--hold-ms", type=int, default=30)
    p.set_defaults(fn=cmd_failover)
    p = sub.add_parser("reload")
    common(p)
    p.add_argument("--nodes", type=int, default=50)
    p.add_argument("--reloads", type=int, default=3)
    p.add_argument("--reload-cmd", required=True)
    p.add_argument("--hb-ms", type=int, default=1000)
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--hold-ms", type=int, default=30)
    p.add_argument("--gap-s", type=float, default=2.0)
    p.set_defaults(fn=cmd_reload)
    p = sub.add_parser("summary")
    p.add_argument("file")
    p.add_argument("--markdown", action="store_true", default=os.environ.get("BENCH_MARKDOWN") == "1")
    p.set_defaults(fn=cmd_summary)
    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
