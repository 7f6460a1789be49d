#!/usr/bin/env python3
"""Measuring side of bench/bench_capacity.sh (which starts the servers): N idle TLS clients held
by one server (mcs-cap-client processes), its memory per client, one echo each, and for the
gateway a reconnect storm and a burst from one address. Loopback only, every wait bounded;
figures to stdout as key=value lines (prefix cap_<name>_), explanations to stderr.

  capacity.py hold --name NAME --pid PID --port P --conns N --client BIN [--admin-sock S
              --servers mcs/n1,mcs/n2 --one-addr K]
  capacity.py report FILE [--dp-rate R]    ratios, clients per GB, goals (from hold's figures)
"""
import argparse
import glob
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from benchlib import emit, load, note  # noqa: E402
from mcs_lib import hap_cmd  # noqa: E402

GB_KB = 1024 * 1024
SRC_FIRST, SRC_COUNT = 2, 250  # clients come from 127.0.0.2 .. 127.0.0.251
ONE_ADDR = 253                 # the one-address burst comes from 127.0.0.253


def tree(pid):
    """pid and all its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for f in glob.glob("/proc/%d/task/*/children" % p):
            try:
                todo += [int(x) for x in open(f).read().split()]
            except OSError:
                pass
    return out


def rss_kb(pid):
    total = 0
    for p in tree(pid):
        try:
            for line in open("/proc/%d/status" % p):
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def slab_kb():
    for line in open("/proc/meminfo"):
        if line.startswith("Slab:"):
            return int(line.split()[1])
    return 0


class Clients:
    """mcs-cap-client processes sharing the clients and the source addresses between them."""

    def __init__(self, binary, port, conns, procs, src_first, src_count, timeout, once=False):
        self.procs = []
        per, addrs = -(-conns // procs), src_count // procs
        for i in range(procs):
            n = min(per, conns - i * per)
            args = [binary, "--port", str(port), "--conns", str(n), "--src-first",
                    str(src_first + i * addrs), "--src-count", str(addrs), "--timeout", str(timeout)]
            if once:
                args.append("--once")
            self.procs.append(subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                               text=True, bufsize=1))

    def answers(self):
        """One answer line of every process, as dicts of its key=value words."""
        out = []
        for p in self.procs:
            line = p.stdout.readline().strip()
            if not line:
                raise SystemExit("bench: a client process ended (exit %s)" % p.poll())
            out.append(dict(w.split("=", 1) for w in line.split() if "=" in w))
        return out

    def send(self, cmd):
        for p in self.procs:
            p.stdin.write(cmd + "\n")
            p.stdin.flush()

    def quit(self):
        for p in self.procs:
            try:
                p.stdin.write("quit\n")
                p.stdin.close()
            except OSError:
                pass
        for p in self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def total(answers, key):
    return sum(float(a.get(key, 0)) for a in answers)


def cmd_hold(a):
    pre = "cap_%s_" % a.name
    time.sleep(0.5)
    rss0, slab0 = rss_kb(a.pid), slab_kb()
    t0 = time.time()
    cl = Clients(a.client, a.port, a.conns, a.procs, SRC_FIRST, SRC_COUNT, a.timeout)
    try:
        held = cl.answers()
        fill_s = time.time() - t0
        time.sleep(1.0)  # let the servers settle (pools, deferred frees)
        rss1, slab1 = rss_kb(a.pid), slab_kb()
        n = int(total(held, "held"))
        note("%s: %d of %d clients held after %.1f s (%d failed attempts on the way)"
             % (a.name, n, a.conns, fill_s, total(held, "failed")))
        cl.send("echo")
        echoed = int(total(cl.answers(), "echoed"))
        time.sleep(0.5)
        rss2, slab2 = rss_kb(a.pid), slab_kb()
        emit(pre + "clients", a.conns)
        emit(pre + "held", n)
        emit(pre + "echoed", echoed)
        emit(pre + "fill_s", fill_s)
        per = max(n, 1)
        emit(pre + "rss_kb_per_client", (rss1 - rss0) / per)
        emit(pre + "slab_kb_per_client", (slab1 - slab0) / per)
        emit(pre + "rss_kb_per_client_after_echo", (rss2 - rss0) / per)
        emit(pre + "slab_kb_per_client_after_echo", (slab2 - slab0) / per)
        note("%s: RSS %d -> %d KB (%d after the echo), kernel slab %d -> %d KB (%d after the echo)"
             % (a.name, rss0, rss1, rss2, slab0, slab1, slab2))
        if a.admin_sock:
            storm(a, cl, pre, n)
            one_address(a, pre)
    finally:
        cl.quit()


def storm(a, cl, pre, n):
    """Every session cut at once over the admin socket; the clients reconnect at once."""
    cl.send("storm")
    cl.answers()  # "armed"
    t_cut = time.time()
    for s in a.servers.split(","):
        hap_cmd(a.admin_sock, "shutdown sessions server %s" % s)
    res = cl.answers()
    greeted, failed = int(total(res, "greeted")), int(total(res, "failed"))
    last = max(float(r["greet1"]) for r in res)
    first_cut = min(float(r["cut0"]) for r in res if float(r["cut0"]) > 0) if any(
        float(r["cut0"]) > 0 for r in res) else t_cut
    secs = last - t_cut if greeted else 0.0
    emit(pre + "storm_clients", n)
    emit(pre + "storm_greeted", greeted)
    emit(pre + "storm_failed_attempts", failed)
    emit(pre + "storm_failed_clients", int(total(res, "failed_clients")))
    emit(pre + "storm_s", secs)
    emit(pre + "storm_cut_ms", (max(float(r["cut1"]) for r in res) - first_cut) * 1000)
    if secs > 0:
        emit(pre + "storm_hs_per_s", greeted / secs)
    note("storm: %d of %d clients greeted again %.2f s after the cut, %d failed attempts"
         % (greeted, n, secs, failed))


def one_address(a, pre):
    """A burst from one address: the per-address limits let some in and refuse the rest."""
    before = hap_cmd(a.admin_sock, "show table mcs_refused")
    cl = Clients(a.client, a.port, a.one_addr, 1, ONE_ADDR, 1, 15, once=True)
    try:
        res = cl.answers()
    finally:
        cl.quit()
    after = hap_cmd(a.admin_sock, "show table mcs_refused")
    emit(pre + "oneaddr_clients", a.one_addr)
    emit(pre + "oneaddr_greeted", int(total(res, "held")))
    emit(pre + "oneaddr_refused", a.one_addr - int(total(res, "held")))
    note("one address 127.0.0.%d: %d of %d greeted; HAProxy's refusals by reason before: %s after: %s"
         % (ONE_ADDR, total(res, "held"), a.one_addr, refused(before), refused(after)))


def refused(table):
    """key 1: rate limit, key 2: concurrency limit (haproxy.cfg, backend mcs_refused)."""
    out = {}
    for line in table.splitlines():
        f = dict(w.split("=", 1) for w in line.split() if "=" in w)
        if "key" in f:
            out[{"1": "rate", "2": "concurrency"}.get(f["key"], f["key"])] = int(f.get("gpc0", 0))
    return out


def cmd_report(a):
    kv = load(a.file)

    def f(key):
        return float(kv[key]) if key in kv else None

    cost = {}
    for t in ("gateway", "nginx", "bare"):
        rss, slab = f("cap_%s_rss_kb_per_client" % t), f("cap_%s_slab_kb_per_client" % t)
        if rss is not None and slab is not None:
            cost[t] = rss + slab
            emit("cap_%s_kb_per_client" % t, rss + slab)
    if "gateway" in cost:
        g = "cap_gateway_"
        n = int(f(g + "clients"))
        emit(g + "clients_per_gb_rss", GB_KB / max(f(g + "rss_kb_per_client"), 0.001))
        emit(g + "clients_per_gb_slab", GB_KB / max(f(g + "slab_kb_per_client"), 0.001))
        emit(g + "clients_per_gb_total", GB_KB / max(cost["gateway"], 0.001))
        goal(g + "held_missing", n - f(g + "held"), "=0", "capacity: gateway, clients of %d not held" % n)
        goal(g + "echo_missing", n - f(g + "echoed"), "=0", "capacity: gateway, held clients that did not echo")
        # The goals compare what each server process holds per client (RSS). The kernel's slab on
        # loopback also holds the load generator's and the nodes' sockets (4 per client behind a
        # proxy, 2 with the bare server), so RSS + slab is shown beside it, without a goal.
        for t, limit in (("bare", "<=1.3"), ("nginx", "<=0.55")):
            if t in cost:
                goal("cap_gateway_vs_%s_rss" % t,
                     f(g + "rss_kb_per_client") / f("cap_%s_rss_kb_per_client" % t), limit,
                     "capacity: memory per idle TLS client (server RSS), gateway / %s" % t, "x")
                emit("cap_gateway_vs_%s_total" % t, cost["gateway"] / cost[t])
    if f("cap_gateway_storm_s") is not None:
        goal("cap_storm_failed", f("cap_gateway_storm_failed_attempts"), "=0",
             "reconnect storm: failed attempts from distinct addresses")
        goal("cap_storm_missing", f("cap_gateway_storm_clients") - f("cap_gateway_storm_greeted"), "=0",
             "reconnect storm: clients not greeted again")
        rate = f("cap_gateway_storm_hs_per_s")
        if rate and a.dp_rate:
            emit("cap_dp_hs_per_s", a.dp_rate)
            goal("cap_storm_vs_dp", rate / a.dp_rate, ">=0.9",
                 "reconnect storm: handshakes/s, storm / data plane's full-handshake rate", "x")


def goal(key, value, g, label, unit=""):
    emit(key, value)
    emit(key + ".goal", g)
    emit(key + ".label", label)
    if unit:
        emit(key + ".unit", unit)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("hold")
    p.add_argument("--name", required=True)
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--conns", type=int, required=True)
    p.add_argument("--client", required=True)
    p.add_argument("--procs", type=int, default=2)
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("--admin-sock")
    p.add_argument("--servers", default="mcs/n1,mcs/n2")
    p.add_argument("--one-addr", type=int, default=300)
    p.set_defaults(fn=cmd_hold)
    p = sub.add_parser("report")
    p.add_argument("file")
    p.add_argument("--dp-rate", type=float)
    p.set_defaults(fn=cmd_report)
    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
