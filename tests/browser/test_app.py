"""Cross-page, real-browser checks: every page loads at projector sizes, projector mode, two users.

The screenshots at 1280x720 (what a projector shows) go to docs/screenshots/<page>.png for the
README; each page's own main action is tested by that page's browser test, not here.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import no_exception
from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
PAGES = {"home": "/", "learn": "/learn?section=backprop&example=mazur&step=2", "playground": "/playground", "mnist": "/mnist", "draw": "/draw", "break": "/break"}
VIEWPORTS = {"720p": {"width": 1280, "height": 720}, "1080p": {"width": 1920, "height": 1080}}
ROOT_FONT_PX_JS = "() => parseFloat(getComputedStyle(document.documentElement).fontSize)"
EPOCH = re.compile(r"Epoch ([0-9.]+)")


SETTLED_JS = """() => document.querySelector('[data-testid="stApp"]')?.getAttribute('data-test-script-state')
    === 'notRunning' && !document.querySelector('[data-testid="stSkeleton"]')"""


def wait_until_run_done(page: Page, timeout: float = 30_000) -> None:
    """Wait for a title and for the page to settle: its script run finished (Streamlit marks its
    root element), no placeholder skeleton left, and still so half a second later (a page may
    rerun itself once right after loading)."""
    expect(page.locator("h1").first).to_be_visible(timeout=timeout)
    try:
        for _ in range(2):
            page.wait_for_function(SETTLED_JS, timeout=timeout)
            page.wait_for_timeout(500)
        page.wait_for_function(SETTLED_JS, timeout=timeout)
    except PlaywrightTimeout:
        pytest.fail(f"{page.url}: the page did not settle in {timeout / 1000:.0f} s")


def _click_if_there(page: Page, name: str) -> bool:
    """Click a button if the page shows it enabled. A run may end between the look and the click
    (MNIST's Pause goes grey when its epochs are done), so the click waits a few seconds, no more."""
    button = page.get_by_role("button", name=name, exact=True)
    if not (button.count() and button.first.is_enabled()):
        return False
    try:
        button.first.click(timeout=5_000)
    except PlaywrightTimeout:
        return False
    return True


def stage_for_picture(page: Page, name: str) -> None:
    """Put a page in a state worth a picture (a trained boundary, trained templates, a digit).
    Best effort, not a test of the action: each page's own browser test checks that."""
    if name in ("playground", "mnist") and _click_if_there(page, "Play" if name == "playground" else "Train"):
        page.wait_for_timeout(2000)
        _click_if_there(page, "Pause")
    elif name == "draw":
        _click_if_there(page, "Show me a test digit")
    wait_until_run_done(page)


def open_page(page: Page, path: str) -> None:
    page.goto(path)
    wait_until_run_done(page)
    no_exception(page)


@pytest.mark.timeout(240)  # six pages, on a machine shared with other test runs
@pytest.mark.parametrize("size", VIEWPORTS)
def test_every_page_loads_at_projector_sizes(browser: Browser, base_url: str, size: str, shots: Path):
    context = browser.new_context(base_url=base_url, viewport=VIEWPORTS[size])
    page = context.new_page()
    try:
        for name, path in PAGES.items():
            open_page(page, path)
            if size == "720p":
                stage_for_picture(page, name)
                no_exception(page)
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=SCREENSHOTS / f"{name}.png")
            else:
                page.screenshot(path=shots / f"app-{name}-{size}.png")
            # Nothing wider than the screen: no sideways scrolling on a projector.
            overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{name} is {overflow}px wider than a {size} screen"
    finally:
        context.close()


@pytest.mark.timeout(120)
def test_projector_mode_survives_links_and_switches_off(browser: Browser, base_url: str, shots: Path):
    context = browser.new_context(base_url=base_url, viewport=VIEWPORTS["720p"])
    page = context.new_page()
    try:
        open_page(page, "/")
        normal_px = page.evaluate(ROOT_FONT_PX_JS)

        open_page(page, "/?present=1")  # a link on a slide: a new session, in projector mode
        assert page.evaluate(ROOT_FONT_PX_JS) > normal_px * 1.15
        expect(page.get_by_test_id("stSidebar")).to_have_attribute("data-collapsed", "true")
        page.screenshot(path=shots / "app-home-present.png")

        # Following a link keeps the mode, and the address bar says so (a copied link keeps it).
        page.get_by_role("link", name="Open MNIST").click()
        expect(page).to_have_url(re.compile(r"/mnist\?present=1$"))
        wait_until_run_done(page)
        no_exception(page)
        assert page.evaluate(ROOT_FONT_PX_JS) > normal_px * 1.15
        page.screenshot(path=shots / "app-mnist-present.png")

        # The sidebar toggle switches it off, and the URL forgets it.
        page.get_by_test_id("stExpandSidebarButton").click()
        toggle = page.get_by_test_id("stSidebar").get_by_text("Projector mode")
        toggle.click()
        expect(page).to_have_url(re.compile(r"/mnist$"))
        page.wait_for_function(f"() => ({ROOT_FONT_PX_JS})() === {normal_px}")
        no_exception(page)

        # And on again from the toggle: large type, and the URL says so.
        toggle.click()
        expect(page).to_have_url(re.compile(r"/mnist\?present=1$"))
        page.wait_for_function(f"() => ({ROOT_FONT_PX_JS})() > {normal_px * 1.15}")
        no_exception(page)
    finally:
        context.close()


def _epoch(page: Page) -> float:
    match = EPOCH.search(page.get_by_test_id("stMain").inner_text())
    assert match, "no epoch counter on the page"
    return float(match.group(1))


@pytest.mark.timeout(120)
def test_one_sessions_training_never_shows_in_another(browser: Browser, base_url: str):
    """Two students on /mnist: A trains, B (a live session that reruns meanwhile) stays at epoch 0."""
    a_ctx = browser.new_context(base_url=base_url, viewport=VIEWPORTS["720p"])
    b_ctx = browser.new_context(base_url=base_url, viewport=VIEWPORTS["720p"])
    try:
        a, b = a_ctx.new_page(), b_ctx.new_page()
        open_page(a, "/mnist")
        open_page(b, "/mnist")
        assert _epoch(a) == 0 and _epoch(b) == 0
        a.get_by_role("button", name="Train", exact=True).click()
        a.wait_for_function("() => /Epoch [1-9]/.test(document.querySelector('[data-testid=stMain]').innerText)",
                            timeout=30_000)
        # B reruns its own script (away to Home and back through the sidebar) while A trains.
        b.get_by_test_id("stSidebarNav").get_by_role("link", name="Home").click()
        wait_until_run_done(b)
        b.get_by_test_id("stSidebarNav").get_by_role("link", name="MNIST").click()
        wait_until_run_done(b)
        expect(b.get_by_test_id("stMain")).to_contain_text("Epoch 0")
        assert _epoch(b) == 0 and _epoch(a) >= 1
        no_exception(a)
        no_exception(b)
        # Stop before closing: a tab closed while the server sends to it makes Streamlit 1.67's
        # websocket handler log a traceback (an upstream disconnect race), failing the server check.
        _click_if_there(a, "Pause")
        wait_until_run_done(a)
    finally:
        a_ctx.close()
        b_ctx.close()
