"""Helpers the Python test and benchmark scripts share (tests/soak, tests/alerts, bench/): a Redis
client, HAProxy's runtime API over a unix socket, processes we spawn, free ports, polling with a
bound. Standard library only, loopback only.

A script imports it with one line relative to its own file:
  sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
"""
import os
import re
import signal
import socket
import subprocess
import threading
import time


# ---------------------------------------------------------------- processes and ports

class Proc:
    """A process we spawned in its own session (so its group is ours to stop), output to a log.
    log(msg) reports a process that had to be killed."""

    def __init__(self, name, argv, env, logdir, log=print):
        self.name, self.log = name, os.path.join(logdir, name + ".log")
        self.say = log
        with open(self.log, "ab") as out:
            self.p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                      stderr=subprocess.STDOUT, start_new_session=True)
        self.pid = self.p.pid

    def running(self):
        return self.p.poll() is None

    def send(self, sig):
        if self.running():
            os.kill(self.pid, sig)

    def stop(self, timeout=10.0, sig=signal.SIGTERM):
        """Sends sig, waits, then SIGKILLs the process group. Returns the exit status (or None)."""
        if self.running():
            os.kill(self.pid, sig)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.say(f"{self.name} (pid {self.pid}) did not exit {timeout:.0f} s after {sig.name}: SIGKILL")
        try:
            os.killpg(self.pid, signal.SIGKILL)  # leftovers of its group (old HAProxy workers)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            return self.p.wait(5)
        except subprocess.TimeoutExpired:
            return None

    def tail(self, lines=40):
        try:
            with open(self.log, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError as e:
            return str(e)


def node_port(proc, timeout=5.0):
    """The port a demo chat node (mcs-lb-demo-node) says in its log that it listens on, or None
    when it has not said so within timeout or exited first."""
    got = {}

    def listening():
        with open(proc.log) as f:
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)\n", f.read())
        if m:
            got["port"] = int(m.group(1))
        return m or not proc.running()
    wait_for(timeout, listening, step=0.01)
    return got.get("port")


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(timeout, fn, step=0.05):
    """Polls fn() every step seconds until it returns a true value (True) or timeout passes
    (False). OSError and ValueError from fn count as "not yet" (a server still starting)."""
    end = time.monotonic() + timeout
    while True:
        try:
            if fn():
                return True
        except (OSError, ValueError):
            pass
        if time.monotonic() >= end:
            return False
        time.sleep(step)


# ---------------------------------------------------------------- Redis (RESP over a socket)

class Redis:
    """One connection to redis-server on 127.0.0.1:port, opened on first use and again after any
    error (so a restarted server is reached again); threads may share it. Replies: simple strings
    and bulk strings as str, integers as int, arrays as lists; an error reply raises OSError."""

    def __init__(self, port, timeout=5.0):
        self.port, self.timeout = port, timeout
        self.sock = self.f = None
        self.lock = threading.Lock()

    def close(self):
        if self.sock:
            self.sock.close()
        self.sock = self.f = None

    @staticmethod
    def encode(args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    def pipeline(self, *cmds):
        """Sends every command in one write, returns the replies."""
        with self.lock:
            try:
                if self.sock is None:
                    self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)
                    self.f = self.sock.makefile("rb")
                self.sock.sendall(b"".join(self.encode(c) for c in cmds))
                return [self._reply() for _ in cmds]
            except (OSError, ValueError):
                self.close()
                raise

    def cmd(self, *args):
        return self.pipeline(args)[0]

    def time(self):
        """Redis's clock, in whole seconds."""
        return int(self.cmd("TIME")[0])

    def _reply(self):
        line = self.f.readline()
        if not line.endswith(b"\r\n"):
            raise ConnectionError("redis closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise OSError("redis: " + rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)
            if len(data) != n + 2:
                raise ConnectionError("redis closed the connection")
            return data[:-2].decode()
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise OSError(f"redis: unexpected reply {line!r}")


# ---------------------------------------------------------------- HAProxy runtime API

def hap_cmd(sock_path, command, timeout=3.0):
    """Sends one command to HAProxy's runtime API on a unix socket; returns the whole answer."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(timeout)
        s.connect(sock_path)
        s.sendall(command.encode() + b"\n")
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                return b"".join(chunks).decode(errors="replace")
            chunks.append(b)


def hap_servers(sock_path, backend="mcs", fields=("srv_op_state", "srv_admin_state"), timeout=3.0):
    """`show servers state BACKEND` -> {server name: tuple of the integer columns named in fields}.
    Raises OSError when the socket does not answer, ValueError on a reply that is not the
    version-1 format (as while no worker answers)."""
    text = hap_cmd(sock_path, "show servers state " + backend, timeout)
    lines = text.splitlines()
    if len(lines) < 2 or lines[0].strip() != "1" or not lines[1].startswith("#"):
        raise ValueError(f"show servers state: {text[:200]!r}")
    head = lines[1][1:].split()
    cols = [head.index(n) for n in ("srv_name",) + tuple(fields)]
    out = {}
    for line in lines[2:]:
        f = line.split()
        if len(f) > max(cols):
            out[f[cols[0]]] = tuple(int(f[i]) for i in cols[1:])
    return out
