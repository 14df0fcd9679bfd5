"""`streamlit run app.py` on a free loopback port, and Debian's Chromium: shared by the browser
tests (tests/browser/conftest.py) and the load script (tests/load_sessions.py)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
# Never `playwright install` (it downloads a browser); without the networking flags Chromium keeps
# trying hosts this closed machine cannot reach.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str) -> bool:
    """Whether the Streamlit server (or the proxy) at url answers its health check."""
    try:
        with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


def start_streamlit(log: IO[str], timeout: float = 60, extra_env: dict | None = None) -> tuple[subprocess.Popen, str]:
    """Start the app with its output going to `log`; return the process and its url once healthy.
    RuntimeError (with the log) if it exits or is not healthy within `timeout` seconds. The class
    database is a fresh SQLite file beside the log unless extra_env names one (never the user's own)."""
    port = free_port()
    # Unbuffered: the browser tests read the log while the server runs (tests/browser/conftest.py).
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false", "PYTHONUNBUFFERED": "1",
           "NNVIZ_DATABASE_URL": f"sqlite:///{Path(log.name).resolve().parent}/class-{port}.db", **(extra_env or {})}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early ({proc.returncode}):\n{Path(log.name).read_text()}")
        if healthy(url):
            return proc, url
        time.sleep(0.1)
    stop(proc)
    raise RuntimeError(f"streamlit did not become healthy in {timeout:.0f} s")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
