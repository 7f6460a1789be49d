#!/usr/bin/env python3
"""The table of bench/dataplane/run.sh: medians over rounds of every mcs-dp-load figure, per
target, with HAProxy's ratio to nginx and to the direct node; key=value lines for bench/run.sh.
  report.py META RESULTS_DIR [BENCH_OUT]
Exits 1 when a target has no figure at all for a step (it could not be measured)."""
import os
import statistics
import sys


def kv_file(path):
    d = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if "=" in line:
                    k, v = line.rstrip("\n").split("=", 1)
                    d[k] = v
    except OSError:
        pass
    return d


def main():
    meta = kv_file(sys.argv[1])
    res_dir = sys.argv[2]
    out = sys.argv[3] if len(sys.argv) > 3 else None
    targets = meta["targets"].split()
    rounds = int(meta["rounds"])
    ncpu = int(meta["nproc"])
    ecdsa, rsa = float(meta["ecdsa_sign"]), float(meta["rsa_sign"])
    ceiling = rsa if meta["key"].startswith("RSA") else ecdsa

    runs = {}  # (target, step) -> [dict per round that produced output]
    for t in targets:
        for step in ("hs", "tput", "lat", "lat1"):
            runs[(t, step)] = [d for d in (kv_file(os.path.join(res_dir, "%s.%s.%d" % (t, step, r)))
                                           for r in range(1, rounds + 1)) if d]

    def vals(t, step, key):
        return [float(d[key]) for d in runs[(t, step)] if key in d]

    def med(t, step, key):
        v = vals(t, step, key)
        return statistics.median(v) if v else None

    fig = {}  # (target, name) -> value
    missing = []
    for t in targets:
        full = sum(vals(t, "hs", "hs_full"))
        resumed = sum(vals(t, "hs", "hs_resumed"))
        hs_cpu = med(t, "hs", "hs_per_cpu_s")
        fig[(t, "hs_per_s")] = med(t, "hs", "hs_per_s")
        fig[(t, "hs_full")] = full
        fig[(t, "hs_resumed")] = resumed
        fig[(t, "hs_per_cpu_s")] = hs_cpu
        fig[(t, "cpu_us_per_hs")] = 1e6 / hs_cpu if hs_cpu else None
        fig[(t, "sign_share_pct")] = 100.0 * hs_cpu / ceiling if hs_cpu else None
        hs = fig[(t, "hs_per_s")]
        fig[(t, "rate_share_pct")] = 100.0 * hs / (ceiling * ncpu) if hs else None
        fig[(t, "mb_per_s")] = med(t, "tput", "mb_per_s")
        fig[(t, "mb_per_cpu_s")] = med(t, "tput", "mb_per_cpu_s")
        fig[(t, "p50_us")] = med(t, "lat", "p50_us")
        fig[(t, "p99_us")] = med(t, "lat", "p99_us")
        fig[(t, "p50_1conn_us")] = med(t, "lat1", "p50_us")
        fig[(t, "p99_1conn_us")] = med(t, "lat1", "p99_us")
        fig[(t, "errors")] = sum(sum(vals(t, s, "errors")) for s in ("hs", "tput", "lat", "lat1"))
        steps = meta.get("steps", "hs tput lat lat1").split()
        if "hs" in steps and full + resumed == 0:
            missing.append("%s: no handshake completed" % t)
        if "tput" in steps and (not vals(t, "tput", "bytes") or sum(vals(t, "tput", "bytes")) == 0):
            missing.append("%s: no throughput figure" % t)
        if "lat" in steps and (not vals(t, "lat", "msgs") or sum(vals(t, "lat", "msgs")) == 0):
            missing.append("%s: no latency figure (64 connections)" % t)
        if "lat1" in steps and (not vals(t, "lat1", "msgs") or sum(vals(t, "lat1", "msgs")) == 0):
            missing.append("%s: no latency figure (one connection)" % t)

    rows = [
        ("new TLS connections/s (full handshakes)", "hs_per_s", "%.0f", True),
        ("  full handshakes counted (all rounds)", "hs_full", "%.0f", None),
        ("  resumed handshakes counted (must be 0)", "hs_resumed", "%.0f", None),
        ("full handshakes per proxy CPU-second", "hs_per_cpu_s", "%.0f", True),
        ("  proxy CPU per handshake, us", "cpu_us_per_hs", "%.0f", False),
        ("  share of the signing ceiling per core, %", "sign_share_pct", "%.1f", True),
        ("  raw rate / (signs/s x %d cores), %%" % ncpu, "rate_share_pct", "%.1f", True),
        ("throughput, MB/s echoed (16 conns)", "mb_per_s", "%.0f", True),
        ("  MB per proxy CPU-second", "mb_per_cpu_s", "%.0f", True),
        ("latency p50, us (64 conns, 2000 msg/s)", "p50_us", "%.0f", False),
        ("latency p99, us (64 conns, 2000 msg/s)", "p99_us", "%.0f", False),
        ("latency p50, us (1 conn, back to back)", "p50_1conn_us", "%.0f", False),
        ("latency p99, us (1 conn, back to back)", "p99_1conn_us", "%.0f", False),
        ("client-side errors (all steps)", "errors", "%.0f", None),
    ]

    def fmt(f, v):
        return "-" if v is None else f % v

    def ratio(a, b):
        return a / b if a is not None and b else None

    cols = targets + [c for c in ("haproxy/nginx", "haproxy/direct", "nginx/direct")
                      if all(x in targets for x in c.split("/"))]
    print()
    print("Data plane, %s mode: %d rounds interleaved, medians; %d CPUs; %s certificate" %
          (meta["mode"], rounds, ncpu, meta["key"]))
    print("openssl speed, one core: ECDSA P-256 %.0f sign/s, RSA-2048 %.0f sign/s (ceiling used: %s)" %
          (ecdsa, rsa, meta["key"]))
    print("HAProxy configuration: %s" % meta["haproxy_cfg"])
    for t in targets:
        d = next((d for d in runs[(t, "hs")] if "proto" in d), {})
        print("  %-8s negotiated %s %s %s" % (t, d.get("proto", "?"), d.get("cipher", "?"), d.get("group", "?")))
    w = max(len(r[0]) for r in rows)
    print()
    print("%-*s " % (w, "figure") + " ".join("%14s" % c for c in cols))
    for label, key, f, _ in rows:
        cells = [fmt(f, fig[(t, key)]) for t in targets]
        for c in cols[len(targets):]:
            a, b = c.split("/")
            cells.append("-" if key in ("hs_full", "hs_resumed", "errors") else fmt("%.2fx", ratio(fig[(a, key)], fig[(b, key)])))
        print("%-*s " % (w, label) + " ".join("%14s" % c for c in cells))
    print("(ratios are plain quotients: above 1 is better for rates, worse for latencies and CPU per handshake)")
    print()
    print("per round (spread; the VM loses a core at random):")
    for label, step, key in (("hs/CPU-s", "hs", "hs_per_cpu_s"), ("hs/s", "hs", "hs_per_s"),
                             ("MB/s", "tput", "mb_per_s"), ("p99 us", "lat", "p99_us"),
                             ("1-conn p99 us", "lat1", "p99_us")):
        print("  %-14s " % label + "   ".join("%s %s" % (t, " ".join("%.0f" % v for v in vals(t, step, key)))
                                                for t in targets))

    if out:
        with open(out, "a", encoding="utf-8") as f:
            w_ = lambda k, v: f.write("%s=%s\n" % (k, v))
            w_("dp_mode", meta["mode"])
            w_("dp_rounds", rounds)
            w_("dp_key", meta["key"])
            w_("dp_ecdsa_p256_sign_per_s", "%.1f" % ecdsa)
            w_("dp_rsa2048_sign_per_s", "%.1f" % rsa)
            for t in targets:
                for _, key, _, _ in rows:
                    if fig[(t, key)] is not None:
                        w_("dp_%s_%s" % (t, key), "%.3f" % fig[(t, key)])
            for c in cols[len(targets):]:
                a, b = c.split("/")
                for _, key, _, _ in rows:
                    r = ratio(fig[(a, key)], fig[(b, key)])
                    if r is not None and key not in ("hs_full", "hs_resumed", "errors"):
                        w_("dp_%s_%s_vs_%s" % (key, a, b), "%.3f" % r)
            goals = []
            if "haproxy" in targets and "nginx" in targets:
                goals += [
                    ("dp_goal_hs_per_cpu_vs_nginx", ratio(fig[("haproxy", "hs_per_cpu_s")], fig[("nginx", "hs_per_cpu_s")]),
                     ">=1.2", "data plane: full TLS handshakes per proxy CPU-s, HAProxy / nginx", "x"),
                    ("dp_goal_tput_vs_nginx", ratio(fig[("haproxy", "mb_per_s")], fig[("nginx", "mb_per_s")]),
                     ">=1", "data plane: throughput, HAProxy / nginx", "x"),
                    ("dp_goal_p99_vs_nginx", ratio(fig[("haproxy", "p99_us")], fig[("nginx", "p99_us")]),
                     "<=1", "data plane: p99 latency (64 conns), HAProxy / nginx", "x"),
                ]
            if "haproxy" in targets:
                goals.append(("dp_goal_ecdsa_share_pct", fig[("haproxy", "sign_share_pct")], ">=10",
                              "data plane: HAProxy handshakes per CPU-s / %s signs per core-s" % meta["key"], "%"))
            if "haproxy" in targets and "direct" in targets:
                goals.append(("dp_goal_p99_1conn_vs_direct", ratio(fig[("haproxy", "p99_1conn_us")], fig[("direct", "p99_1conn_us")]),
                              "<=1.5", "data plane: one-connection p99, HAProxy / direct", "x"))
            for name, v, goal, label, unit in goals:
                if v is not None:
                    w_(name, "%.3f" % v)
                    w_(name + ".goal", goal)
                    w_(name + ".label", label)
                    w_(name + ".unit", unit)

    if missing:
        for m in missing:
            print("dataplane: COULD NOT MEASURE %s" % m, file=sys.stderr)
        return 1
    if any(fig[(t, "hs_resumed")] for t in targets):
        print("dataplane: WARNING: resumed handshakes were counted; the full-handshake figures are mixed",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
