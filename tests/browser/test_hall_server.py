"""`python -m nnviz serve --workers 2` (HAProxy in front of two Streamlit workers) in a real browser:
two students get different workers by the NNVIZ_WORKER cookie; each keeps its session across a
page switch and across a dropped WebSocket (Streamlit reconnects with its session id, the cookie
brings it to the same worker); no /media picture fails; and a class submission made through one
worker is on the board seen through the other (the workers share one database, a temporary
SQLite file). One server for the module."""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import no_exception, tracebacks
from playwright.sync_api import Browser, BrowserContext, Page, expect

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(120)

EPOCH_JS = "() => { const e = document.querySelector('[data-testid=stMetricValue]'); return e ? e.innerText : ''; }"
# Every WebSocket the page opens, so that a test can drop it (Streamlit then reconnects).
KEEP_SOCKETS_JS = """(() => { const Native = window.WebSocket; window.__sockets = [];
  window.WebSocket = class extends Native { constructor(...a) { super(...a); window.__sockets.push(this); } }; })()"""


def free_ports(n: int) -> int:
    """A port P such that P, P+1, ..., P+n are free on loopback (the front and n workers)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        try:
            for p in range(base, base + n + 1):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue


@dataclass
class Hall:
    url: str
    env: dict
    log: Path


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    """`python -m nnviz serve --workers 2` on free ports and a fresh class database; its log (the
    workers' stderr too) must have no traceback when the module is done."""
    folder = tmp_path_factory.mktemp("hall")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NNVIZ_DATABASE_URL": f"sqlite:///{folder}/class.db"}
    out, log = folder / "serve.out", folder / "serve.log"
    with open(out, "w") as o, open(log, "w") as e:
        proc = subprocess.Popen([sys.executable, "-m", "nnviz", "serve", "--workers", "2",
                                 "--port", str(free_ports(2))], cwd=ROOT, env=env, stdout=o, stderr=e)
    try:
        deadline = time.monotonic() + 120
        while not (m := re.search(r"nnviz is serving (http://\S+) ", out.read_text())):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"serve did not start ({proc.poll()}):\n{log.read_text()}")
            time.sleep(0.1)
        yield Hall(m[1], env, log)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert proc.returncode == 0, log.read_text()
    found = tracebacks(log.read_text(errors="replace"))
    assert not found, f"serve's log has a traceback:\n{found}"


@dataclass
class Student:
    context: BrowserContext
    page: Page
    media: list[tuple[int, str]] = field(default_factory=list)  # (status, url); 0: the request failed
    page_errors: list[str] = field(default_factory=list)

    def worker(self) -> str:
        (cookie,) = [c for c in self.context.cookies() if c["name"] == "NNVIZ_WORKER"]
        return cookie["value"]


@pytest.fixture(scope="module")
def students(browser: Browser, hall: Hall):
    """Two students, each in a browser context of its own, on the home page one after the other."""
    made = []
    for _ in range(2):
        context = browser.new_context(base_url=hall.url + "/", viewport={"width": 1280, "height": 900})
        context.add_init_script(KEEP_SOCKETS_JS)
        page = context.new_page()
        s = Student(context, page)
        page.on("response", lambda r, s=s: "/media/" in r.url and s.media.append((r.status, r.url)))
        page.on("requestfailed", lambda r, s=s: "/media/" in r.url and s.media.append((0, r.url)))
        page.on("pageerror", lambda e, s=s: s.page_errors.append(str(e)))
        page.goto("")
        expect(page.locator('[data-testid="stSidebarNav"]')).to_be_visible(timeout=30_000)
        made.append(s)
    yield made
    for s in made:
        s.context.close()


def epoch(page: Page) -> int:
    return int(re.sub(r"\D", "", page.evaluate(EPOCH_JS).split("/")[0]) or -1)


def nav(page: Page, name: str) -> None:
    """A page switch through the sidebar: the same session, no page load."""
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=name).click()


def open_playground(page: Page) -> None:
    nav(page, "Playground")
    expect(page.get_by_role("heading", name="Playground")).to_be_visible(timeout=30_000)
    page.wait_for_function(f"() => ({EPOCH_JS})() !== ''", timeout=30_000)


def step_to(page: Page, n: int) -> None:
    """Press the Playground's Step until the epoch shown is n."""
    while epoch(page) < n:
        before = epoch(page)
        page.get_by_role("button", name="Step", exact=True).click()
        page.wait_for_function(f"() => parseInt(({EPOCH_JS})().replace(/\\D/g, '')) > {before}", timeout=30_000)
    assert epoch(page) == n


def drop_websocket(page: Page) -> None:
    """Close the page's open WebSocket and wait until Streamlit has opened a new one."""
    n = page.evaluate("window.__sockets.length")
    assert page.evaluate("window.__sockets.filter(s => s.readyState === WebSocket.OPEN).length") == 1
    page.evaluate("window.__sockets.forEach(s => s.close())")
    page.wait_for_function(f"window.__sockets.length > {n} && window.__sockets.at(-1).readyState === WebSocket.OPEN",
                           timeout=30_000)


def test_two_students_get_different_workers_by_an_inserted_cookie(students):
    a, b = students
    assert {a.worker(), b.worker()} == {"w1", "w2"}
    for s in students:
        (cookie,) = [c for c in s.context.cookies() if c["name"] == "NNVIZ_WORKER"]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"


def test_each_session_survives_a_page_switch_and_a_dropped_websocket(students):
    for s, epochs in zip(students, (3, 2)):
        page, worker = s.page, s.worker()
        open_playground(page)
        step_to(page, epochs)
        nav(page, "MNIST")  # its weight pictures are st.image files under /media
        expect(page.locator(".st-key-mnist_templates_box img")).to_be_visible(timeout=30_000)
        page.wait_for_function("document.querySelector('.st-key-mnist_templates_box img').naturalWidth > 0",
                               timeout=30_000)
        open_playground(page)
        assert epoch(page) == epochs  # the session kept its run across the page switch

        drop_websocket(page)
        # One Step trains on from the kept run (a new session would start again from epoch 0).
        page.get_by_role("button", name="Step", exact=True).click()
        page.wait_for_function(f"() => parseInt(({EPOCH_JS})().replace(/\\D/g, '')) !== {epochs}", timeout=30_000)
        assert epoch(page) == epochs + 1
        assert s.worker() == worker
        no_exception(page)
        assert not s.page_errors, s.page_errors
    for s in students:
        assert s.media, "no /media request was made"
        failed = [m for m in s.media if m[0] != 200]
        assert not failed, failed


def test_a_submission_through_one_worker_is_on_the_board_through_the_other(students, hall):
    a, b = students
    made = subprocess.run([sys.executable, "-m", "nnviz", "class", "create", "--open", "--json"], cwd=ROOT,
                          env=hall.env, capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    code = json.loads(made.stdout)["code"]

    page = a.page
    page.goto(f"class?join={code}")
    expect(page.get_by_role("textbox", name="Class code")).to_have_value(code, timeout=30_000)
    page.get_by_role("textbox", name="Your name on the board").fill("Ada")
    page.get_by_role("button", name="Join").click()
    page.wait_for_url(re.compile(r"[?&]student="), timeout=30_000)
    token = re.search(r"[?&]student=([^&]+)", page.url)[1]
    page.goto(f"mnist?student={token}")
    expect(page.get_by_text(re.compile(r"Epoch 0\b"))).to_be_visible(timeout=60_000)
    page.get_by_role("button", name="Step", exact=True).click()
    expect(page.get_by_text(re.compile(r"Epoch 1 \(paused\)"))).to_be_visible(timeout=60_000)
    page.get_by_role("button", name="Submit to class").click()
    expect(page.get_by_text(re.compile(r"Submitted \(no\. \d+\)"))).to_be_visible(timeout=30_000)

    board = b.page
    board.goto(f"class?board={code}&present=1")
    expect(board.locator('[data-testid="stTable"]').get_by_text("Ada", exact=True)).to_be_visible(timeout=60_000)
    assert a.worker() != b.worker()  # seen through the other worker
    no_exception(page)
    no_exception(board)
