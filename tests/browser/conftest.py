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


@contextlib.contextmanager
def running_streamlit(log_path: Path):
    """`streamlit run app.py` on a free loopback port; yields its url, stops it afterwards.

    A traceback in the server log is a failure even when every page looked fine.
    """
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
