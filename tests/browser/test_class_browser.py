"""The class challenge (/class) in a real browser, with four browser contexts at once: a lecturer
starts a class and opens round 1; students A and B join (B's name is HTML, shown literally), train
one epoch on /mnist and submit (A from /mnist, B from /class); student C joins and, in round 2,
attacks a classmate's network; a projector shows the board with the names, then "Who fooled whom".
Screenshots of the projector board go to docs/screenshots/class.png (1280x720) and class-1920.png."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from conftest import no_exception
from playwright.sync_api import Browser, BrowserContext, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
B_NAME = "<b>Bea</b>"
TABLE = '[data-testid="stTable"]'


def query(page: Page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


class Watched:
    """Browser contexts whose console errors and page errors are collected."""

    def __init__(self, browser: Browser, base_url: str):
        self.browser, self.base_url = browser, base_url
        self.contexts: list[BrowserContext] = []
        self.console: list[str] = []
        self.page_errors: list[str] = []

    def page(self, who: str, **context_args) -> Page:
        context = self.browser.new_context(base_url=self.base_url, **context_args)
        self.contexts.append(context)
        page = context.new_page()
        page.on("console", lambda m: m.type == "error" and self.console.append(
            f"{who}: {m.text} ({m.location.get('url', '')})"))
        page.on("pageerror", lambda e: self.page_errors.append(f"{who}: {e}"))
        return page

    def close(self) -> None:
        for c in self.contexts:
            c.close()


def page_not_found_shown(page: Page) -> bool:
    """Whether Streamlit's "Page not found" dialog came up. It did when the page file's name
    (pages/classroom.py) differed from its url path (/class): before app.py's st.navigation has
    run, a fresh server looks the URL up among the files in pages/."""
    dialog = page.get_by_role("dialog").filter(has_text="Page not found")
    try:
        dialog.wait_for(timeout=1500)
    except PlaywrightTimeout:
        return False
    return True


def join(page: Page, code: str, name: str) -> str:
    """Open the join link, check the code is filled in, join as `name`; the student's token."""
    page.goto(f"class?join={code}")
    code_box = page.get_by_role("textbox", name="Class code")
    expect(code_box).to_have_value(code, timeout=30_000)
    page.get_by_role("textbox", name="Your name on the board").fill(name)
    page.get_by_role("button", name="Join").click()
    page.wait_for_url(re.compile(r"[?&]student="), timeout=30_000)
    expect(page.get_by_text("Round 1: submit a network")).to_be_visible(timeout=30_000)
    return query(page)["student"]


def train_one_epoch(page: Page) -> None:
    """On /mnist: Step trains one epoch."""
    expect(page.get_by_text(re.compile(r"Epoch 0\b"))).to_be_visible(timeout=60_000)
    page.get_by_role("button", name="Step", exact=True).click()
    expect(page.get_by_text(re.compile(r"Epoch 1 \(paused\)"))).to_be_visible(timeout=60_000)


@pytest.mark.timeout(150)
def test_a_class_challenge_with_a_lecturer_three_students_and_a_projector(browser: Browser, base_url: str):
    w = Watched(browser, base_url)
    try:
        # 1. the lecturer starts a class and opens round 1
        lecturer = w.page("lecturer")
        lecturer.goto("class")
        expect(lecturer.get_by_role("button", name="Start a class")).to_be_visible(timeout=30_000)
        assert not page_not_found_shown(lecturer), 'the first /class request showed "Page not found"'
        lecturer.get_by_role("button", name="Start a class").click()
        lecturer.wait_for_url(re.compile(r"[?&]code=\w{6}&key=|[?&]key=.*[?&]code="), timeout=30_000)
        code = query(lecturer)["code"]
        assert re.fullmatch(r"[A-Z0-9]{6}", code), code
        lecturer.get_by_role("button", name="Open round 1: submit").click()
        expect(lecturer.get_by_role("button", name="Close round 1")).to_be_visible(timeout=30_000)
        no_exception(lecturer)

        # 2. A and B join, train one epoch each and submit; C joins only
        a, b, c = w.page("student A"), w.page("student B"), w.page("student C")
        token_a = join(a, code, "Ada")
        token_b = join(b, code, B_NAME)
        expect(b.get_by_text(f"You are {B_NAME} in class {code}")).to_be_visible()  # literal, not bold
        join(c, code, "Cyd")

        a.goto(f"mnist?student={token_a}")  # the place is kept in the address on every page
        train_one_epoch(a)
        a.get_by_role("button", name="Submit to class").click()
        expect(a.get_by_text(re.compile(r"Submitted \(no\. \d+\)"))).to_be_visible(timeout=30_000)
        assert query(a).get("student") == token_a

        b.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="MNIST").click()
        assert_student = re.compile(rf"/mnist\?.*student={token_b}")
        b.wait_for_url(assert_student, timeout=30_000)
        train_one_epoch(b)
        b.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Class challenge").click()
        submit_b = b.get_by_role("button", name="Submit this session's model")
        expect(submit_b).to_be_enabled(timeout=30_000)  # the session's model came along
        submit_b.click()
        expect(b.get_by_text(re.compile(r"Submitted \(no\. \d+\)"))).to_be_visible(timeout=30_000)
        no_exception(a)
        no_exception(b)

        # 3. the projector: both names on the board once rated, B's literally
        board = w.page("projector", viewport={"width": 1280, "height": 720})
        board.goto(f"class?board={code}&present=1")
        table = board.locator(TABLE)
        expect(table.get_by_text("Ada", exact=True)).to_be_visible(timeout=60_000)
        expect(table.get_by_text(B_NAME, exact=True)).to_be_visible(timeout=60_000)
        assert table.locator("b").count() == 0  # no bold from the name
        assert "key" not in query(board)

        # 4. round 2: C attacks a classmate; the board shows who fooled whom
        lecturer.get_by_role("button", name="Open round 2: break").click()
        expect(lecturer.get_by_role("button", name="Close round 2")).to_be_visible(timeout=30_000)
        c.reload()
        expect(c.get_by_text("Round 2: break a classmate's network")).to_be_visible(timeout=30_000)
        expect(c.get_by_role("combobox", name=re.compile("Target"))).to_be_visible()  # the first classmate is fine
        c.get_by_role("button", name="Attack and submit").click()
        expect(c.get_by_text(re.compile(r"Fooled \d+ of 20 digits"))).to_be_visible(timeout=60_000)
        no_exception(c)
        plots = board.locator(".js-plotly-plot")
        expect(plots).to_have_count(2, timeout=15_000)
        expect(board.get_by_text("Who fooled whom")).to_be_visible(timeout=10_000)
        no_exception(board)
        no_exception(lecturer)

        # 5. the projector board for the README
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        board.mouse.move(2, 2)
        board.wait_for_timeout(1000)
        board.screenshot(path=SCREENSHOTS / "class.png")
        board.set_viewport_size({"width": 1920, "height": 1080})
        board.wait_for_timeout(4000)
        board.screenshot(path=SCREENSHOTS / "class-1920.png")
        no_exception(board)

        assert not w.page_errors, w.page_errors
        if w.console:
            print("console errors:", *w.console, sep="\n  ")
    finally:
        w.close()
