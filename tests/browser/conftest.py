"""Real-browser fixtures: one `streamlit run app.py` per test session, driven by Debian's Chromium.

Never `playwright install`: it downloads a browser, which this machine cannot. Screenshots go
to tests/browser/shots/ (look at them).
"""
import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(__file__).resolve().parent / "shots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}


@contextlib.contextmanager
def running_streamlit(log_path: Path):
    """`streamlit run app.py` on a free loopback port; yields its url, stops it afterwards.

    A traceback in the server log is a failure even when every page looked fine.
    """
    port = _free_port()
    log = open(log_path, "w+")
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            log.seek(0)
            pytest.fail(f"streamlit exited early ({proc.returncode}):\n{log.read()}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("streamlit did not become healthy in 60 s")
        time.sleep(0.1)
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.seek(0)
        server_log = log.read()
        log.close()
    assert "Traceback" not in server_log, server_log[-5000:]


@pytest.fixture(scope="session")
def streamlit_server(tmp_path_factory):
    with running_streamlit(tmp_path_factory.mktemp("st") / "server.log") as url:
        yield url


@pytest.fixture(scope="session")
def base_url(streamlit_server):
    return streamlit_server + "/"


@pytest.fixture(scope="session")
def shots() -> Path:
    SHOTS.mkdir(exist_ok=True)
    return SHOTS


def no_exception(page) -> None:
    """Fail if Streamlit shows an exception box anywhere on the page."""
    errors = page.locator('[data-testid="stException"]')
    assert errors.count() == 0, errors.first.inner_text()
