"""`python -m nnviz serve`: several `streamlit run app.py` workers behind HAProxy, for a hall.

Why several: one Streamlit process uses at most about one core (Python's GIL), so a hall needs
one per core. Why a proxy with affinity: a session, its uploads and its /media pictures live in the
memory of one process, so every request of one browser must reach the same worker. HAProxy
inserts a cookie (NNVIZ_WORKER) for that; never affinity by client address, since a hall behind
one campus NAT is one address. What the students share, the class, is in the database every
worker opens (NNVIZ_DATABASE_URL: one SQLite file on one machine, PostgreSQL across machines).

    python -m nnviz serve --workers 4 --port 8501 --host 0.0.0.0
    python -m nnviz serve --print-config --worker-address 10.0.0.2:8501 --worker-address 10.0.0.3:8501

Exit status: 0 after Ctrl-C or SIGTERM, 2 for bad arguments or no haproxy, 1 when serving fails.
"""
from __future__ import annotations

import argparse
import ctypes
import errno
import ipaddress
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from nnviz.cli.args import number

ROOT = Path(__file__).resolve().parents[2]  # where app.py is
COOKIE = "NNVIZ_WORKER"
HEALTH = "/_stcore/health"
START_TIMEOUT_S = 180  # N cold workers at once on few cores
STOP_TIMEOUT_S = 10

EPILOG = ("The workers listen on 127.0.0.1, ports PORT+1 to PORT+N; students open http://HOST:PORT. "
          "They share the class database NNVIZ_DATABASE_URL (default: the same SQLite file as "
          "'python -m nnviz class'). With --print-config --worker-address HOST:PORT ..., the "
          "configuration fronts workers on other machines, which must then share one PostgreSQL.")


class ServeError(Exception):
    """Serving cannot go on; run() prints it as one line and exits 1."""


# ----- arguments --------------------------------------------------------------------------------
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")


def host_name(text: str) -> str:
    """A host name, an IPv4 address or an IPv6 address (argparse type)."""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    # "10.0.0.300" matches the host-name pattern but is a typo of an address, not a name
    if len(text) > 253 or not _HOSTNAME.fullmatch(text) or re.fullmatch(r"[\d.]+", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a host name or an IP address")
    return text


def address(text: str) -> tuple[str, int]:
    """HOST:PORT, with an IPv6 address in brackets ([2001:db8::2]:8501) -> (host, port)."""
    m = re.fullmatch(r"\[([^\]]*)\]:(\d{1,5})|([^:\[\]]*):(\d{1,5})", text)
    example = "e.g. 10.0.0.2:8501 or [2001:db8::2]:8501"
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT ({example})")
    host, port = (m[1], m[2]) if m[1] is not None else (m[3], m[4])
    if m[1] is not None and ":" not in host:
        raise argparse.ArgumentTypeError(f"{text!r}: brackets are for IPv6 addresses only ({example})")
    try:
        host, port = host_name(host), int(port)
    except argparse.ArgumentTypeError as e:
        raise argparse.ArgumentTypeError(f"{text!r}: {e}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r}: the port must be 1-65535")
    return host, port


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=number(int, 1, 256), default=None, metavar="N",
                   help=f"Streamlit processes on this machine; default: one per core ({os.cpu_count() or 1})")
    p.add_argument("--port", type=number(int, 1, 65535), default=8501,
                   help="the port students open; the workers use the next N ports on 127.0.0.1; default 8501")
    p.add_argument("--host", type=host_name, default="127.0.0.1",
                   help="the address HAProxy listens on; 0.0.0.0 for every interface; default 127.0.0.1")
    p.add_argument("--print-config", action="store_true",
                   help="print the HAProxy configuration serve would use, and exit (for your own proxy)")
    p.add_argument("--worker-address", type=address, action="append", metavar="HOST:PORT",
                   help="with --print-config: a worker on another machine (repeat for each)")


# ----- the HAProxy configuration ----------------------------------------------------------------
def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def haproxy_config(listen: tuple[str, int], workers: list[tuple[str, int]]) -> str:
    """The HAProxy (2.6+) configuration that fronts `workers` (host, port) on `listen` (host, port)."""
    servers = "\n".join(f"    server w{i} {_hostport(*w)} cookie w{i}" for i, w in enumerate(workers, 1))
    return f"""\
# HAProxy in front of nnviz's Streamlit workers (made by `python -m nnviz serve`; check it with
# `haproxy -c -f FILE`, run it with `haproxy -db -f FILE`). Each worker: `streamlit run app.py
# --server.port PORT --server.address ADDRESS --server.headless true`, all with the same
# NNVIZ_DATABASE_URL (and the same STREAMLIT_SERVER_COOKIE_SECRET, so a moved student's upload
# tokens still hold).
global
    maxconn 4096

defaults
    mode http
    timeout connect 5s
    timeout client  1h      # a student's WebSocket stays open for the whole lecture
    timeout server  1h
    timeout tunnel  1h      # what applies once the WebSocket (/_stcore/stream) is upgraded
    timeout http-request 10s
    option http-server-close
    retries 3
    option redispatch       # a dead worker's students land on a live one (as new sessions)

frontend hall
    bind {_hostport(*listen)}
    default_backend workers

backend workers
    # Each open page holds one WebSocket, so the worker with the fewest connections has the fewest students.
    balance leastconn
    # Affinity by a cookie HAProxy inserts, never by client address: a hall behind one NAT is one address.
    cookie {COOKIE} insert indirect nocache httponly attr "SameSite=Lax"
    option httpchk GET {HEALTH}
    http-check expect status 200
    default-server check inter 1s fall 2 rise 1
{servers}
"""


# ----- the supervisor ---------------------------------------------------------------------------
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None  # loaded before any fork


def _die_with_parent() -> None:
    """In a child before exec, on Linux: the kernel sends it SIGTERM when serve dies, even by SIGKILL."""
    _LIBC.prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def _status(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"status {returncode}"


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + HEALTH, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


class Supervisor:
    """Starts the workers and HAProxy, restarts a worker that exits, and stops them all.

    Children run in process groups of their own, so a terminal's Ctrl-C reaches only serve, which
    stops them in order (the proxy first). `stopping`, set by the signal handlers, ends every wait.
    """

    RESTART_DELAYS_S = (0, 1, 3, 10, 30)  # after 0, 1, 2, ... deaths in a row within YOUNG_S of a start
    YOUNG_S = 30

    def __init__(self, worker_ports: list[int], env: dict[str, str], proxy_argv: list[str],
                 proxy_url: str, log=sys.stderr):
        self.ports = {f"w{i}": port for i, port in enumerate(worker_ports, 1)}
        self.env, self.proxy_argv, self.proxy_url, self.log_file = env, proxy_argv, proxy_url, log
        self.workers: dict[str, subprocess.Popen | None] = dict.fromkeys(self.ports)
        self.started = dict.fromkeys(self.ports, 0.0)
        self.deaths = dict.fromkeys(self.ports, 0)  # in a row, each soon after its start
        self.due = dict.fromkeys(self.ports, 0.0)  # when a dead worker is started again
        self.proxy: subprocess.Popen | None = None
        self.stopping = False

    def log(self, line: str) -> None:
        print(f"nnviz serve: {line}", file=self.log_file, flush=True)

    def _spawn(self, argv: list[str], **kwargs) -> subprocess.Popen:
        return subprocess.Popen(argv, process_group=0, cwd=ROOT,
                                preexec_fn=_die_with_parent if _LIBC else None, **kwargs)

    def _start_worker(self, name: str) -> None:
        argv = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                "--server.port", str(self.ports[name]), "--server.address", "127.0.0.1",
                "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
        # stdout is Streamlit's "You can now view your app at <worker url>": not the url to open
        self.workers[name] = self._spawn(argv, env=self.env, stdout=subprocess.DEVNULL)
        self.started[name] = time.monotonic()

    def _wait(self, ready, what: str) -> None:
        """Poll `ready()` until it is true, serve is stopping, or START_TIMEOUT_S has passed."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.stopping and not ready():
            if time.monotonic() > deadline:
                raise ServeError(f"{what} not ready after {START_TIMEOUT_S} s")
            time.sleep(0.2)

    def _all_workers_healthy(self) -> bool:
        for name, proc in self.workers.items():
            if proc.poll() is not None:
                raise ServeError(f"worker {name} (port {self.ports[name]}) exited while starting, with "
                                 f"{_status(proc.returncode)} (its messages are above)")
        return all(_healthy(f"http://127.0.0.1:{port}") for port in self.ports.values())

    def _proxy_healthy(self) -> bool:
        if self.proxy.poll() is not None:
            raise ServeError(f"haproxy exited while starting, with {_status(self.proxy.returncode)} "
                             f"(its messages are above)")
        return _healthy(self.proxy_url)

    def start(self) -> None:
        """All workers, then HAProxy once every worker answers its health check."""
        for name in self.ports:
            self._start_worker(name)
        self._wait(self._all_workers_healthy, "the workers were")
        if not self.stopping:
            self.proxy = self._spawn(self.proxy_argv)
            self._wait(self._proxy_healthy, "haproxy was")

    def watch(self) -> None:
        """Restart workers that exit, until stopping; ServeError if HAProxy exits."""
        while not self.stopping:
            if self.proxy.poll() is not None:
                raise ServeError(f"haproxy exited with {_status(self.proxy.returncode)}; stopping the workers")
            now = time.monotonic()
            for name, proc in self.workers.items():
                if proc is not None and proc.poll() is not None:
                    # A worker that keeps dying young (a broken install) waits longer each time, not a busy loop.
                    young = now - self.started[name] < self.YOUNG_S
                    self.deaths[name] = self.deaths[name] + 1 if young else 0
                    delay = self.RESTART_DELAYS_S[min(self.deaths[name], len(self.RESTART_DELAYS_S) - 1)]
                    self.workers[name], self.due[name] = None, now + delay
                    self.log(f"worker {name} (port {self.ports[name]}) exited with {_status(proc.returncode)}; "
                             f"restarting it" + (f" in {delay} s" if delay else ""))
                if self.workers[name] is None and now >= self.due[name] and not self.stopping:
                    self._start_worker(name)
            time.sleep(0.5)

    def stop(self) -> None:
        """SIGTERM to the proxy and every worker, SIGKILL to any still running after STOP_TIMEOUT_S."""
        running = [p for p in (self.proxy, *self.workers.values()) if p is not None and p.poll() is None]
        for p in running:
            p.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for p in running:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


# ----- the command ------------------------------------------------------------------------------
def _port_in_use(host: str, port: int) -> str | None:
    """Why `port` cannot be listened on at `host`, or None if it can."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do: TIME_WAIT is no obstacle
        try:
            s.bind((host, port))
        except OSError as e:
            return "in use" if e.errno == errno.EADDRINUSE else e.strerror
    return None


def _shown_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def run(args: argparse.Namespace) -> int:
    prog = getattr(args, "prog", "python -m nnviz serve")

    def fail(message: str, status: int) -> int:
        print(f"{prog}: {message}", file=sys.stderr)
        return status

    if args.worker_address and args.workers is not None:
        return fail("give --workers (workers on this machine) or --worker-address, not both", 2)
    if args.worker_address and not args.print_config:
        return fail("--worker-address goes with --print-config: serve itself starts its workers here", 2)
    n = args.workers or os.cpu_count() or 1
    if not args.worker_address and args.port + n > 65535:
        return fail(f"the workers would need ports {args.port + 1}-{args.port + n}; choose a lower --port", 2)
    workers = args.worker_address or [("127.0.0.1", args.port + i) for i in range(1, n + 1)]
    config = haproxy_config((args.host, args.port), workers)
    if args.print_config:
        print(config, end="")
        return 0

    if not (ROOT / "app.py").is_file():
        return fail(f"needs the app itself, {ROOT / 'app.py'}, which is missing (run from a copy of the repository)", 1)
    haproxy = shutil.which("haproxy")
    if haproxy is None:
        return fail("needs HAProxy and finds no haproxy on PATH: install it with sudo apt-get install haproxy "
                    "(Debian, Ubuntu; it goes to /usr/sbin), or run your own proxy with --print-config", 2)
    why = _port_in_use(args.host, args.port)
    if why:
        return fail(f"cannot listen on {_hostport(args.host, args.port)}: {why} "
                    f"(choose another {'--port' if why == 'in use' else '--host'})", 2)
    for host, port in workers:
        why = _port_in_use(host, port)
        if why:
            return fail(f"the workers use ports {args.port + 1}-{args.port + n} on 127.0.0.1, and {port} "
                        f"cannot be used ({why}): choose another --port", 2)

    # One database for every worker, opened (and migrated) once here: a bad URL fails now, not in class.
    from nnviz.classroom.store import ClassStore, default_url

    db_url = default_url()
    try:
        ClassStore(db_url).dispose()
    except Exception as e:  # noqa: BLE001 - an unreachable database is one line, not a traceback
        return fail(f"the class database cannot be opened: {' '.join(str(e).split())[:300]}", 1)

    # The same cookie secret in every worker (Streamlit asks it of replicas): a student redispatched to
    # another worker keeps a valid XSRF cookie, so uploads still work there.
    env = {**os.environ, "NNVIZ_DATABASE_URL": db_url, "PYTHONUNBUFFERED": "1",
           "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    env.setdefault("STREAMLIT_SERVER_COOKIE_SECRET", secrets.token_hex(32))
    unspecified = args.host in ("0.0.0.0", "::")
    probe = ("::1" if ":" in args.host else "127.0.0.1") if unspecified else args.host
    shown = socket.gethostname() if unspecified else args.host

    with tempfile.TemporaryDirectory(prefix="nnviz-serve-") as folder:
        config_file = Path(folder) / "haproxy.cfg"
        config_file.write_text(config)
        sup = Supervisor([port for _, port in workers], env, [haproxy, "-db", "-f", str(config_file)],
                         f"http://{_hostport(probe, args.port)}")

        def on_signal(signum, _frame):
            sup.stopping = True

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            sup.start()
            if not sup.stopping:
                print(f"nnviz is serving http://{_hostport(shown, args.port)} ({n} workers behind HAProxy, "
                      f"class database {_shown_url(db_url)}); Ctrl-C stops it", flush=True)
                sup.watch()
        except ServeError as e:
            return fail(str(e), 1)
        finally:
            sup.stop()
            for s, handler in previous.items():
                signal.signal(s, handler)
    sup.log("stopped")
    return 0
