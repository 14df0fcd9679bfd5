"""Real-browser fixtures: one `streamlit run app.py` per test session, driven by Debian's Chromium.

Never `playwright install`: it downloads a browser, which this machine cannot. Screenshots go
to tests/browser/shots/ (look at them).
"""
import contextlib
from pathlib import Path

import pytest
from serving import CHROMIUM, CHROMIUM_ARGS, start_streamlit, stop

SHOTS = Path(__file__).resolve().parent / "shots"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}


class ServerLog:
    """The shared server: its url, and its output file read as it grows (what each test added)."""

    def __init__(self, url: str, path: Path):
        self.url, self.path = url, path
        self.read_up_to = 0

    def new_text(self) -> str:
        with open(self.path, encoding="utf-8", errors="replace") as f:
            f.seek(self.read_up_to)
            text = f.read()
        self.read_up_to += len(text.encode("utf-8", errors="replace"))
        return text


def tracebacks(text: str) -> str:
    """A server log from the line before its first traceback on, at most 5,000 characters ('' if
    it has none). Streamlit logs a failed script run as "Uncaught app execution" and the traceback."""
    at = text.find("Traceback")
    if at < 0:
        return ""
    line_before = text.rfind("\n", 0, max(text.rfind("\n", 0, at), 0))
    return text[line_before + 1:][:5000]


@contextlib.contextmanager
def running_streamlit(log_path: Path):
    """`streamlit run app.py` on a free loopback port, its output going to log_path; yields its url
    and stops it afterwards. A traceback in its log is a failure even when every page
    looked fine (a superseded script run can fail where no browser shows it)."""
    log = open(log_path, "w+")
    try:
        proc, url = start_streamlit(log)
    except RuntimeError as e:
        log.close()
        pytest.fail(str(e))
    try:
        yield url
    finally:
        stop(proc)
        log.close()
    found = tracebacks(log_path.read_text(errors="replace"))
    assert not found, f"the server logged a traceback during the browser tests:\n{found}"


@pytest.fixture(scope="session")
def streamlit_server(tmp_path_factory):
    """The app's server for the whole browser test run (its log is checked when the run ends)."""
    log_path = tmp_path_factory.mktemp("st") / "server.log"
    with running_streamlit(log_path) as url:
        yield ServerLog(url, log_path)


@pytest.fixture(autouse=True)
def no_server_traceback(request):
    """After each test that used the shared server: fail it if the server logged a traceback
    meanwhile (in the test, or just before it: a run may fail after its page has closed)."""
    if "streamlit_server" not in request.fixturenames:
        yield
        return
    server: ServerLog = request.getfixturevalue("streamlit_server")
    server.new_text()  # what earlier tests left is theirs
    yield
    found = tracebacks(server.new_text())
    if found:
        pytest.fail(f"the server logged a traceback during {request.node.name}:\n{found}", pytrace=False)


@pytest.fixture(scope="session")
def base_url(streamlit_server):
    return streamlit_server.url + "/"


@pytest.fixture(scope="session")
def shots() -> Path:
    SHOTS.mkdir(exist_ok=True)
    return SHOTS


def no_exception(page) -> None:
    """Fail if Streamlit shows an exception box anywhere on the page."""
    errors = page.locator('[data-testid="stException"]')
    assert errors.count() == 0, errors.first.inner_text()
