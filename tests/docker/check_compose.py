"""docker-compose.yml has the production shape, and starts the gateway exactly as ./mcs-lb up does.

Shape: redis, haproxy (publishes MCS_PORT), controller in a network namespace of its own (none
shares another container's: it would die with it) sharing haproxy's runtime-socket volume, user and tls/ (when it watches MCS_TLS_DIR), metrics-bridge (publishes PROMETHEUS_PORT, the volume read-only,
a user that cannot open the 0600 admin socket), tls/ read-only, a healthcheck and a restart policy
everywhere, the seed's defaults, profiles demo and monitoring (Prometheus loading alerts.yml).

Parity with the local runner:
- each gateway service's command is a script of docker/entry/ (copied into the images at the
  same path), and ./mcs-lb runs the same script, with no argument, in the background;
- every variable a script requires (${VAR:?}) and every ${VAR} of haproxy.cfg is given by the
  compose service; ./mcs-lb gives the scripts' (export_defaults, or on the call line) and every
  haproxy.cfg variable without a default of its own there (the rest it passes on from the caller);
- compose gives no variable the process does not read (scripts, haproxy.cfg, the daemon's --help);
- the defaults agree: compose's ${VAR:-default} = export_defaults = haproxy.cfg's ${VAR-default}
  = the daemon's --help; only container paths and bind addresses are fixed in the containers;
- Compose itself interpolates each of those variables into the service that reads it
  (docker-compose config with every variable set to a sentinel).

usage: check_compose.py ROOT CONTROLLER_BIN METRICS_BIN
"""
import os
import re
import subprocess
import sys
import tempfile

import yaml

from dockerfile import parse_dockerfile, read_runner

IMAGE_ENTRY = "/opt/mcs-lb/docker/entry/"
# service -> the entry script both the container and ./mcs-lb up run
GATEWAY = {"haproxy": "haproxy.sh", "controller": "controller.sh", "metrics-bridge": "metrics.sh",
           "demo-node": "demo-node.sh"}
# Compose only: ./mcs-lb runs its own redis-server and no Prometheus.
COMPOSE_ONLY = {"redis": None, "prometheus": "prometheus.sh", "alertmanager": "alertmanager.sh"}
PROFILES = {"demo-node": ["demo"], "prometheus": ["monitoring"], "alertmanager": ["monitoring"]}
# Fixed inside the containers: paths of the image, and bind addresses (inside a container every
# address; the host side is the `ports` mapping, which reads the operator's variable).
FIXED = {"MCS_RUN_DIR", "MCS_TLS_DIR", "MCS_BIND_ADDR", "MCS_METRICS_BIND_ADDR", "MCS_DEMO_LISTEN",
         "MCS_AGENT_ADDR"}
SIZED_AT_START = {"MCS_MAXCONN", "MCS_FRONTEND_MAXCONN"}
SEED = {"REDIS_URL": "redis://redis:6379", "MCS_PORT": "64400", "PROMETHEUS_PORT": "9000"}
VAR = r"(?:MCS_[A-Z0-9_]+|REDIS_URL|PROMETHEUS_PORT)"

failures = []


def fail(message):
    failures.append(message)
    print("FAIL: " + message)


def code_of(path):
    """A shell script without its comment lines."""
    with open(path, encoding="utf-8") as f:
        return "\n".join(l for l in f.read().splitlines() if not l.lstrip().startswith("#"))


def script_vars(path):
    """(required, all) variable names a shell script reads: required are the ${VAR:?...} ones."""
    code = code_of(path)
    required = set(re.findall(r"\$\{(" + VAR + r"):\?", code))
    return required, set(re.findall(r"\$\{?(" + VAR + r")\b", code))


def cfg_vars(path):
    """{name: default, or None without one} of the ${VAR} / ${VAR-default} in haproxy.cfg."""
    found = {}
    for name, dash, default in re.findall(r"\$\{(" + VAR + r")(-([^}]*))?\}", code_of(path)):
        if dash or name not in found:
            found[name] = default if dash else None
    return found


def health_vars(root, part):
    """Variables the `part)` branch of health.sh reads without a default of its own."""
    m = re.search(r"^" + re.escape(part) + r"\)\n(.*?)^\t;;", code_of(os.path.join(root, "docker", "entry", "health.sh")),
                  re.MULTILINE | re.DOTALL)
    if not m:
        return None
    return {v for v, op in re.findall(r"\$\{(" + VAR + r")(:-|[^}]?)", m.group(1)) if op != ":-"}


def help_defaults(binary):
    """{name: default} from a daemon's --help ("empty" is "")."""
    out = subprocess.run([binary, "--help"], capture_output=True, text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        m = re.match(r"^\s+(" + VAR + r")\s", line)
        at = line.rfind("(default: ")
        if m and at != -1:
            default = re.split(r"[;)]", line[at + len("(default: "):])[0]
            found[m.group(1)] = "" if default == "empty" else default
    return found


def env_value(value):
    """('default', d) for "${VAR:-d}", ('fixed', v) for anything else."""
    m = re.fullmatch(r"\$\{(" + VAR + r"):-([^}]*)\}", str(value))
    return ("default", m.group(2), m.group(1)) if m else ("fixed", "" if value is None else str(value), None)


def mounts(service):
    """[(source, target, read_only)] of a service's volumes, short or long syntax."""
    result = []
    for v in service.get("volumes", []):
        if isinstance(v, dict):
            result.append((v.get("source"), v.get("target"), bool(v.get("read_only"))))
        else:
            parts = re.findall(r"(?:\$\{[^}]*\}|[^:])+", v)  # a ${VAR:-default} holds a colon
            result.append((parts[0], parts[1], len(parts) > 2 and "ro" in parts[2].split(",")))
    return result


def check_shape(compose, stages, root, helps):
    services = compose.get("services", {})
    for name in list(GATEWAY) + list(COMPOSE_ONLY):
        if name not in services:
            fail(f"no service {name}")
    for name, svc in services.items():
        if svc.get("profiles", []) != PROFILES.get(name, []):
            fail(f"{name}: profiles {svc.get('profiles', [])}, expected {PROFILES.get(name, [])}")
        test = (svc.get("healthcheck") or {}).get("test")
        if not test or test == ["NONE"] or svc["healthcheck"].get("disable"):
            fail(f"{name}: no healthcheck")
        if svc.get("restart") not in ("always", "unless-stopped", "on-failure"):
            fail(f"{name}: no restart policy")
        target = (svc.get("build") or {}).get("target")
        if not any(s.name == target for s in stages):
            fail(f"{name}: builds target {target}, which docker/Dockerfile lacks")
    hap, ctl, bridge = (services.get(n, {}) for n in ("haproxy", "controller", "metrics-bridge"))
    ports = lambda svc: [str(p) for p in svc.get("ports", [])]
    if not any(p.endswith("${MCS_PORT:-64400}:${MCS_PORT:-64400}") for p in ports(hap)):
        fail("haproxy does not publish ${MCS_PORT:-64400} on the same port")
    if not any(p.endswith("${PROMETHEUS_PORT:-9000}:${PROMETHEUS_PORT:-9000}") for p in ports(bridge)):
        fail("metrics-bridge does not publish ${PROMETHEUS_PORT:-9000} on the same port")
    for name, svc in services.items():
        if str(svc.get("network_mode", "")).startswith(("service:", "container:")):
            fail(f"{name}: network_mode {svc['network_mode']}: it would stay in a dead namespace when that container restarts")
    if ports(ctl):
        fail("controller publishes ports (only HAProxy's agent checks reach it, on the compose network)")
    if (ctl.get("environment") or {}).get("MCS_AGENT_ADDR") != "":
        fail("controller: MCS_AGENT_ADDR must be empty (controller.sh uses the container's own address)")
    run_dirs = {n: (services.get(n, {}).get("environment") or {}).get("MCS_RUN_DIR") for n in ("haproxy", "controller", "metrics-bridge")}
    if len(set(run_dirs.values())) != 1:
        fail(f"MCS_RUN_DIR differs: {run_dirs}")
    run_dir = run_dirs["haproxy"]
    volumes = compose.get("volumes") or {}
    shared = {}
    for n, want_ro in (("haproxy", False), ("controller", False), ("metrics-bridge", True)):
        m = [x for x in mounts(services.get(n, {})) if x[1] == run_dir]
        if not m or m[0][0] not in volumes:
            fail(f"{n}: no named volume at MCS_RUN_DIR {run_dir}")
            continue
        shared[n] = m[0][0]
        if m[0][2] != want_ro:
            fail(f"{n}: the runtime volume should be {'read-only' if want_ro else 'writable'}")
    if len(set(shared.values())) != 1:
        fail(f"the runtime sockets are not one shared volume: {shared}")
    # HAProxy reads tls/ at start; the controller too when it reads MCS_TLS_DIR (hot reload).
    tls_readers = ["haproxy"] + (["controller"] if "MCS_TLS_DIR" in helps["controller"] else [])
    for n in tls_readers:
        tls_dir = (services.get(n, {}).get("environment") or {}).get("MCS_TLS_DIR")
        if not tls_dir or not any(t == tls_dir and ro and s == "${MCS_TLS_DIR:-./tls}" for s, t, ro in mounts(services.get(n, {}))):
            fail(f"{n}: ${{MCS_TLS_DIR:-./tls}} is not mounted read-only at its MCS_TLS_DIR")
    if len({(services.get(n, {}).get("environment") or {}).get("MCS_TLS_DIR") for n in tls_readers}) != 1:
        fail("MCS_TLS_DIR differs between haproxy and controller")
    # admin.sock is mode 0600, owned by HAProxy's user: the controller must be that user, the
    # bridge must not.
    user = lambda n: services[n].get("user") or next((s.effective_user() for s in stages
                                                      if s.name == services[n]["build"]["target"]), "?")
    with open(os.path.join(root, "haproxy", "haproxy.cfg"), encoding="utf-8") as f:
        if not re.search(r"admin\.sock\"?\s+mode 600 level admin", f.read()):
            fail("haproxy.cfg: the admin socket is not mode 600 (the users below assume it)")
    if all(n in services for n in ("haproxy", "controller", "metrics-bridge")):
        if user("controller") != user("haproxy"):
            fail(f"controller runs as {user('controller')}, HAProxy as {user('haproxy')}: admin.sock (0600) is unusable")
        if user("metrics-bridge") in (user("haproxy"), "root", "0"):
            fail(f"metrics-bridge runs as {user('metrics-bridge')}: it could open admin.sock")
        print(f"users: haproxy {user('haproxy')}, controller {user('controller')}, metrics-bridge {user('metrics-bridge')}")
    prom = services.get("prometheus", {})
    alerts = [t for s, t, ro in mounts(prom) if s.endswith("metrics-bridge/alerts.yml") and ro]
    if not alerts or alerts[0] not in code_of(os.path.join(root, "docker", "entry", "prometheus.sh")):
        fail("prometheus: metrics-bridge/alerts.yml is not mounted read-only where prometheus.sh loads it")


def check_parity(compose, stages, root, runner, helps):
    services = compose.get("services", {})
    entry_dir = os.path.join(root, "docker", "entry")
    if not any(flags == [] and srcs == ["docker/entry/"] and dest == IMAGE_ENTRY for s in stages
               for flags, srcs, dest in s.copies):
        fail(f"docker/Dockerfile does not COPY docker/entry/ to {IMAGE_ENTRY}")
    runs = {c["script"]: c for c in runner["calls"] if not c["args"] and c["background"]}
    for call in runner["calls"]:
        if call["args"] and call["args"] != ["check"]:
            fail(f"mcs-lb line {call['line']}: {call['script']} {' '.join(call['args'])}: run or check only")
    cfg = cfg_vars(os.path.join(root, "haproxy", "haproxy.cfg"))
    used_by_compose = set()
    for name, svc in services.items():
        command = svc.get("command") or []
        if name == "redis":
            continue
        script = command[0][len(IMAGE_ENTRY):] if command and command[0].startswith(IMAGE_ENTRY) else None
        expected = GATEWAY.get(name) or COMPOSE_ONLY.get(name)
        if script != expected or len(command) != 1:
            fail(f"{name}: command {command}, expected [{IMAGE_ENTRY}{expected}]")
            continue
        if not os.path.isfile(os.path.join(entry_dir, script)):
            fail(f"{name}: docker/entry/{script} does not exist")
            continue
        used_by_compose.add(script)
        env = svc.get("environment") or {}
        if isinstance(env, list):
            env = dict(e.split("=", 1) if "=" in e else (e, None) for e in env)
        required, reads = script_vars(os.path.join(entry_dir, script))
        known, local_required = set(reads), set(required)
        if script == "haproxy.sh":
            # haproxy.cfg's variables, less those haproxy.sh sets itself (export VAR=...).
            own = set(re.findall(r"^\s*export (" + VAR + r")=", code_of(os.path.join(entry_dir, script)), re.MULTILINE))
            required |= set(cfg) - own
            known |= set(cfg)
            local_required |= {v for v, d in cfg.items() if d is None} - own
        daemon = {"controller.sh": helps["controller"], "metrics.sh": helps["metrics"]}.get(script, {})
        known |= set(daemon)
        for var in sorted(required - set(env)):
            fail(f"{name}: docker-compose.yml does not give {var}, which {script} reads "
                 f"(add `{var}: ${{{var}:-<default>}}` to its environment)")
        for var in sorted(set(env) - known):
            fail(f"{name}: docker-compose.yml gives {var}, which nothing in {script} reads")
        if name in GATEWAY:
            call = runs.get(script)
            if call is None:
                fail(f"mcs-lb does not run \"$ENTRY/{script}\" &, the command of compose's {name}")
            else:
                local = runner["exported"] | set(call["inline"])
                for var in sorted(local_required - local):
                    fail(f"mcs-lb does not set {var} for {script} (export it in export_defaults)")
        health = (svc.get("healthcheck") or {}).get("test") or []
        if len(health) == 3 and health[:2] == ["CMD", IMAGE_ENTRY + "health.sh"]:
            needs = health_vars(root, health[2])
            if needs is None:
                fail(f"{name}: health.sh has no probe {health[2]}")
            for var in sorted((needs or set()) - set(env)):
                fail(f"{name}: its healthcheck (health.sh {health[2]}) needs {var}, not in its environment")
        else:
            fail(f"{name}: healthcheck {health} is not [CMD, {IMAGE_ENTRY}health.sh, <part>]")
        check_defaults(name, env, runner["defaults"], cfg if script == "haproxy.sh" else {}, daemon)
        print(f"{name}: {IMAGE_ENTRY}{script} with {', '.join(sorted(env))}")
    for script in sorted(set(runs) - used_by_compose):
        fail(f"mcs-lb runs {script}, which no compose service runs")
    own = set(re.findall(r"^\s*export (" + VAR + r")=", code_of(os.path.join(entry_dir, "haproxy.sh")), re.MULTILINE))
    for var in sorted(set(cfg) - own):
        if var not in runner["defaults"] and cfg[var] is None:
            fail(f"haproxy.cfg reads {var} without a default, and export_defaults in mcs-lb does not give it")


def check_defaults(service, env, runner_defaults, cfg, daemon):
    for var, value in sorted(env.items()):
        kind, default, named = env_value(value)
        if var in FIXED:
            if kind != "fixed":
                fail(f"{service}: {var} is a container path or address, fixed in the image's terms")
            elif (var.endswith("BIND_ADDR") or var == "MCS_AGENT_ADDR") and default != "":
                fail(f"{service}: {var} must be empty in the container (the ports mapping binds the host side)")
            continue
        if kind != "default" or named != var:
            fail(f"{service}: {var}: {value!r} is not ${{{var}:-<default>}}")
            continue
        # Sized by haproxy.sh at start-up ("auto"): haproxy.cfg's default only serves a bare
        # `haproxy -f haproxy.cfg`.
        cfg_default = None if var in SIZED_AT_START and default == "auto" else cfg.get(var)
        sources = {"export_defaults": runner_defaults.get(var), "haproxy.cfg": cfg_default,
                   "--help": daemon.get(var), "the seed": SEED.get(var)}
        for where, expected in sources.items():
            if expected is not None and "$" not in expected and expected != default:
                fail(f"{service}: {var} defaults to {default!r} in docker-compose.yml, {expected!r} in {where}")


def check_interpolation(root, compose):
    """Compose itself substitutes every overridable variable into the services."""
    sentinel, env = {}, {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/")}
    numbers = iter(range(47000, 48000))
    for svc in compose["services"].values():
        for var, value in (svc.get("environment") or {}).items():
            if env_value(value)[0] == "default":
                sentinel[var] = str(next(numbers)) if var.endswith("PORT") else f"sentinel-{var.lower()}"
    env.update(sentinel)
    env.update({"MCS_BIND_ADDR": "192.0.2.7", "MCS_METRICS_BIND_ADDR": "192.0.2.8", "MCS_TLS_DIR": "/sentinel/tls"})
    with tempfile.NamedTemporaryFile("w", suffix=".env") as empty:  # neither .env nor the caller's variables
        r = subprocess.run(["docker-compose", "--env-file", empty.name, "--profile", "demo", "--profile", "monitoring",
                            "config"], cwd=root, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"docker-compose config with every variable set: {r.stderr.strip()}")
        return
    resolved = yaml.safe_load(r.stdout)["services"]
    for name, svc in compose["services"].items():
        for var, value in (svc.get("environment") or {}).items():
            if env_value(value)[0] == "default" and str(resolved[name]["environment"].get(var)) != sentinel[var]:
                fail(f"{name}: {var} set to {sentinel[var]} reaches the container as {resolved[name]['environment'].get(var)}")
    published = lambda n: [(str(p.get("host_ip")), str(p.get("published")), str(p.get("target")))
                           if isinstance(p, dict) else tuple(str(p).split("/")[0].rsplit(":", 2))
                           for p in resolved[n].get("ports", [])]
    want = {"haproxy": ("192.0.2.7", sentinel.get("MCS_PORT"), sentinel.get("MCS_PORT")),
            "metrics-bridge": ("192.0.2.8", sentinel.get("PROMETHEUS_PORT"), sentinel.get("PROMETHEUS_PORT"))}
    for name, triple in want.items():
        if triple not in published(name):
            fail(f"{name}: with the variables set, publishes {published(name)}, expected {triple}")
    if not any(v.startswith("/sentinel/tls:") for v in resolved["haproxy"].get("volumes", []) if isinstance(v, str)):
        fail("haproxy: MCS_TLS_DIR does not choose the certificate directory mounted")
    print(f"docker-compose config: {len(sentinel)} variables reach their services, MCS_BIND_ADDR, "
          "MCS_METRICS_BIND_ADDR and MCS_TLS_DIR choose the host side")


def main():
    root, controller_bin, metrics_bin = sys.argv[1:4]
    with open(os.path.join(root, "docker-compose.yml"), encoding="utf-8") as f:
        compose = yaml.safe_load(f)
    stages = parse_dockerfile(os.path.join(root, "docker", "Dockerfile"))
    runner = read_runner(os.path.join(root, "mcs-lb"))
    helps = {"controller": help_defaults(controller_bin), "metrics": help_defaults(metrics_bin)}
    check_shape(compose, stages, root, helps)
    check_parity(compose, stages, root, runner, helps)
    for name, daemon in (("controller", helps["controller"]), ("metrics-bridge", helps["metrics"])):
        passed = set((compose["services"].get(name, {}).get("environment") or {}))
        if set(daemon) - passed:
            print(f"note: {name} keeps its own default of {', '.join(sorted(set(daemon) - passed))} "
                  "(not settable through docker-compose.yml)")
    if subprocess.run(["sh", "-c", "command -v docker-compose"], capture_output=True).returncode == 0:
        check_interpolation(root, compose)
    elif os.environ.get("CI") == "true":
        fail("docker-compose not found (apt-get install docker-compose)")
    else:
        print("note: docker-compose not found: interpolation not checked")
    if failures:
        print(f"{len(failures)} problem(s) in docker-compose.yml / mcs-lb")
        return 1
    print("docker-compose.yml: shape and parity with ./mcs-lb up hold")
    return 0


if __name__ == "__main__":
    sys.exit(main())
