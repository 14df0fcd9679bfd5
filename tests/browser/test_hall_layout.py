"""What a hall sees in projector mode (?present=1), measured in the real browser: the geometry of
three things that were wrong at 1280x720 and 1920x1080.

- /draw: the old canvas's floating toolbar covered the model caption (our own canvas has none: the
  canvas and its buttons must stay clear of the caption);
- /break: "FOOLED" under the amplified change reached up into that picture on a wide screen;
- /mnist: the ten weight pictures, the point of the page, took 40% of a 1080p screen's width.
"""
from __future__ import annotations

import contextlib

import pytest
from conftest import no_exception
from playwright.sync_api import Browser, Page, expect
from test_app import wait_until_run_done

SIZES = [(1280, 720), (1920, 1080)]
pytestmark = pytest.mark.timeout(300)


@contextlib.contextmanager
def projector(browser: Browser, base_url: str, path: str, width: int, height: int):
    """A fresh session on `path?present=1` at this screen size, settled; no exception at the end."""
    context = browser.new_context(base_url=base_url, viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        page.goto(f"{path}?present=1")
        wait_until_run_done(page, timeout=180_000)  # the first visit trains the default model
        yield page
        no_exception(page)
    finally:
        context.close()


def overlap(a: dict, b: dict) -> bool:
    """Do two bounding boxes ({x, y, width, height}) share any area?"""
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


def box(page: Page, selector: str, **kw) -> dict:
    locator = page.locator(selector, **kw).first
    expect(locator).to_be_visible(timeout=60_000)
    return locator.bounding_box()


@pytest.mark.parametrize("width, height", SIZES)
def test_draw_canvas_leaves_the_model_caption_readable(browser: Browser, base_url: str, width, height):
    with projector(browser, base_url, "draw", width, height) as page:
        canvas_selector = '[data-testid="stBidiComponentIsolated"] canvas.nnviz-pad'
        page.locator(canvas_selector).hover()
        caption = box(page, '[data-testid="stCaptionContainer"] p', has_text="held-out digits")
        canvas = box(page, canvas_selector)
        undo = box(page, '[data-testid="stBaseButton-secondary"]', has_text="Undo")
        for item in (canvas, undo):
            assert not overlap(item, caption), (item, caption)
        assert canvas["y"] >= caption["y"] + caption["height"]
        assert canvas["y"] + canvas["height"] <= height  # the whole canvas on screen


@pytest.mark.parametrize("width, height", SIZES)
def test_break_verdict_stays_under_the_change_picture(browser: Browser, base_url: str, width, height):
    with projector(browser, base_url, "break", width, height) as page:
        verdict = box(page, ".js-plotly-plot .annotation-text", has_text="FOOLED")
        change = box(page, ".js-plotly-plot .subplot.x2y2 .heatmaplayer image")
        assert not overlap(verdict, change), (verdict, change)
        assert verdict["y"] >= change["y"] + change["height"]
        centre = verdict["x"] + verdict["width"] / 2
        assert change["x"] < centre < change["x"] + change["width"]  # still under that picture


@pytest.mark.parametrize("width, height, least", [(1280, 720, 0.5), (1920, 1080, 0.5)])
def test_mnist_weight_pictures_take_half_the_width_and_fit_a_screen(browser: Browser, base_url: str,
                                                                     width, height, least):
    with projector(browser, base_url, "mnist", width, height) as page:
        img = page.locator(".st-key-mnist_templates_box img").first
        expect(img).to_be_visible(timeout=60_000)
        page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=img.element_handle())
        shown = img.evaluate("""i => { const r = i.getBoundingClientRect();  // object-fit: contain
            const s = Math.min(r.width / i.naturalWidth, r.height / i.naturalHeight);
            return {x: r.x, y: r.y, width: i.naturalWidth * s, height: i.naturalHeight * s}; }""")
        curves = box(page, ".st-key-mnist_loss_box")
        assert shown["width"] >= least * width, shown
        assert shown["height"] <= height, shown  # whole on the screen once scrolled to it
        assert not overlap(shown, curves) and curves["x"] >= shown["x"] + shown["width"]
