"""`python -m nnviz serve` as real processes: --print-config passes `haproxy -c`, bad input is one
line and status 2, no haproxy is one line saying how to install it, a killed worker is restarted,
and SIGTERM, Ctrl-C or serve's own death leave no child running. The database is a temporary
SQLite file (never the user's)."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from serving import healthy

ROOT = Path(__file__).resolve().parents[2]
SERVE = [sys.executable, "-m", "nnviz", "serve"]
URL_LINE = re.compile(r"nnviz is serving (http://\S+) ")


@pytest.fixture
def env(tmp_path):
    return {**os.environ, "PYTHONPATH": str(ROOT), "NNVIZ_DATABASE_URL": f"sqlite:///{tmp_path}/class.db"}


def serve(env, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([*SERVE, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def free_ports(n: int) -> int:
    """A port P such that P, P+1, ..., P+n are free on loopback (serve's front and its n workers)."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + n > 65535:
            continue
        try:
            for p in range(base, base + n + 1):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
        except OSError:
            continue
        return base
    raise RuntimeError("no run of free ports")


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


# ----- processes, read from /proc ---------------------------------------------------------------
def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()  # after "pid (comm) ": state, ppid, ...


def alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] not in "ZX"  # a zombie has exited


def cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().split("\0")
    except OSError:
        return []


def children_of(pid: int) -> list[int]:
    kids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit() and (stat := _stat(int(d.name))) and stat[1] == str(pid) and alive(int(d.name)):
            kids.append(int(d.name))
    return kids


def worker_on(pids: list[int], port: int) -> int:
    (pid,) = [p for p in pids if "--server.port" in (c := cmdline(p)) and c[c.index("--server.port") + 1] == str(port)]
    return pid


def processes_with(*words: str) -> list[int]:
    """Live processes whose command line has these words in a row (e.g. --server.port 8502)."""
    needle = "\0".join(words) + "\0"
    return [int(d.name) for d in Path("/proc").iterdir()
            if d.name.isdigit() and needle in "\0".join(cmdline(int(d.name))) and alive(int(d.name))]


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.1)


# ----- a running `serve` -------------------------------------------------------------------------
class Serving:
    """`python -m nnviz serve ...` with stdout and stderr going to files; its children are killed
    afterwards if a failed test left any."""

    def __init__(self, tmp_path: Path, env: dict, *args: str, **popen_args):
        self.out, self.err = tmp_path / "serve.out", tmp_path / "serve.err"
        with open(self.out, "w") as out, open(self.err, "w") as err:
            self.proc = subprocess.Popen([*SERVE, *args], cwd=ROOT, env=env, stdout=out, stderr=err, **popen_args)
        self.children: list[int] = []

    def url(self, timeout: float = 120) -> str:
        """The url of the one line serve prints once every worker is healthy; records the children."""
        deadline = time.monotonic() + timeout
        while not (m := URL_LINE.search(self.out.read_text())):
            assert self.proc.poll() is None, f"serve exited ({self.proc.returncode}):\n{self.err.read_text()}"
            assert time.monotonic() < deadline, f"serve not ready in {timeout} s:\n{self.err.read_text()}"
            time.sleep(0.1)
        assert len(self.out.read_text().splitlines()) == 1
        self.children = children_of(self.proc.pid)
        return m[1]

    def log(self) -> str:
        return self.err.read_text()

    def cleanup(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for pid in self.children + children_of(self.proc.pid):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


# ----- --print-config ----------------------------------------------------------------------------
LOCAL = ("--workers", "3", "--port", "9501")
REMOTE = ("--host", "0.0.0.0", "--port", "80", "--worker-address", "10.0.0.2:8501",
          "--worker-address", "[2001:db8::3]:8502")


@pytest.mark.parametrize("args, bind, servers", [
    (LOCAL, "127.0.0.1:9501", ["127.0.0.1:9502", "127.0.0.1:9503", "127.0.0.1:9504"]),
    (REMOTE, "0.0.0.0:80", ["10.0.0.2:8501", "[2001:db8::3]:8502"]),
], ids=["local workers", "workers on other machines"])
def test_print_config_passes_haproxy_check(env, tmp_path, args, bind, servers):
    r = serve(env, "--print-config", *args)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    config = tmp_path / "haproxy.cfg"
    config.write_text(r.stdout)
    check = subprocess.run(["haproxy", "-c", "-f", str(config)], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "WARNING" not in check.stdout + check.stderr, check.stdout + check.stderr
    assert re.search(rf"^\s+bind {re.escape(bind)}$", r.stdout, re.M)
    assert re.findall(r"^\s+server (w\d+) (\S+) cookie (w\d+)$", r.stdout, re.M) == \
        [(f"w{i}", s, f"w{i}") for i, s in enumerate(servers, 1)]
    assert 'cookie NNVIZ_WORKER insert indirect nocache httponly attr "SameSite=Lax"' in r.stdout
    assert "option redispatch" in r.stdout and "GET /_stcore/health" in r.stdout
    assert "balance source" not in r.stdout  # affinity by address: one NAT, one worker


@pytest.mark.parametrize("bad", ["10.0.0.2", "10.0.0.2:0", "10.0.0.2:65536", "[10.0.0.2]:80", "bad_name:80",
                                 "10.0.0.300:80", "[::1:80", ":8501", "10.0.0.2:80:81"])
def test_a_bad_worker_address_is_one_line_and_status_2(env, bad):
    r = serve(env, "--print-config", "--worker-address", "10.0.0.9:8501", "--worker-address", bad)
    assert r.returncode == 2 and r.stdout == ""
    assert "--worker-address" in one_line(r.stderr) and bad in r.stderr


@pytest.mark.parametrize("args", [("--workers", "0"), ("--workers", "x"), ("--port", "0"),
                                  ("--worker-address", "10.0.0.2:8501"),  # without --print-config
                                  ("--print-config", "--workers", "2", "--worker-address", "10.0.0.2:8501")])
def test_bad_arguments_are_one_line_and_status_2(env, args):
    r = serve(env, *args)
    assert r.returncode == 2
    one_line(r.stderr)


@pytest.mark.parametrize("taken", ["front", "worker"])
def test_a_port_in_use_is_one_line_and_status_2(env, taken):
    port = free_ports(2)
    with socket.socket() as s:
        s.bind(("127.0.0.1", port if taken == "front" else port + 2))
        s.listen()
        r = serve(env, "--workers", "2", "--port", str(port))
    assert r.returncode == 2
    assert "in use" in one_line(r.stderr)
    assert processes_with("--server.port", str(port + 1)) == []


def test_without_haproxy_one_line_says_how_to_install_it_and_no_worker_runs(env, tmp_path):
    port = free_ports(2)
    (tmp_path / "bin").mkdir()
    r = serve({**env, "PATH": str(tmp_path / "bin")}, "--workers", "2", "--port", str(port))
    assert r.returncode == 2
    assert "sudo apt-get install haproxy" in one_line(r.stderr)
    assert processes_with("--server.port", str(port + 1)) == []
    assert processes_with("--server.port", str(port + 2)) == []


# ----- serving ----------------------------------------------------------------------------------
@pytest.mark.timeout(180)
def test_a_killed_worker_is_restarted_and_sigterm_stops_every_child(env, tmp_path):
    port = free_ports(2)
    s = Serving(tmp_path, env, "--workers", "2", "--port", str(port))
    try:
        url = s.url()
        assert url == f"http://127.0.0.1:{port}"
        assert len(s.children) == 3, [cmdline(p) for p in s.children]  # two workers and haproxy
        (proxy,) = [p for p in s.children if Path(cmdline(p)[0]).name == "haproxy"]
        # The running proxy's configuration is what --print-config prints.
        running = Path(cmdline(proxy)[cmdline(proxy).index("-f") + 1]).read_text()
        assert running == serve(env, "--print-config", "--workers", "2", "--port", str(port)).stdout
        with urllib.request.urlopen(url + "/_stcore/health", timeout=10) as r:
            assert r.status == 200
            assert any(c.startswith("NNVIZ_WORKER=w") for c in r.headers.get_all("Set-Cookie"))

        old = worker_on(s.children, port + 1)
        os.kill(old, signal.SIGKILL)
        wait_until(lambda: f"worker w1 (port {port + 1}) exited with signal SIGKILL; restarting it" in s.log(),
                   10, "the restart logged")
        assert sum("exited" in line for line in s.log().splitlines()) == 1
        wait_until(lambda: len(children_of(s.proc.pid)) == 3, 20, "a new worker w1")
        new = worker_on(children_of(s.proc.pid), port + 1)
        assert new != old and not alive(old)
        s.children.append(new)
        wait_until(lambda: healthy(f"http://127.0.0.1:{port + 1}"), 60, "the new worker healthy")

        s.proc.send_signal(signal.SIGTERM)
        assert s.proc.wait(30) == 0, s.log()
        wait_until(lambda: not any(alive(p) for p in s.children), 5, "every child gone")
    finally:
        s.cleanup()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("how", ["ctrl-c", "sigkill"])
def test_ctrl_c_or_serve_killed_leaves_no_child(env, tmp_path, how):
    """Ctrl-C: the terminal's SIGINT goes to serve's process group. SIGKILL: serve cannot clean up,
    so the kernel stops its children (PR_SET_PDEATHSIG)."""
    port = free_ports(1)
    s = Serving(tmp_path, env, "--workers", "1", "--port", str(port), start_new_session=True)
    try:
        s.url()
        assert len(s.children) == 2
        if how == "ctrl-c":
            os.killpg(s.proc.pid, signal.SIGINT)
            assert s.proc.wait(30) == 0, s.log()
        else:
            s.proc.kill()
            s.proc.wait(10)
        wait_until(lambda: not any(alive(p) for p in s.children), 15, "every child gone")
    finally:
        s.cleanup()
