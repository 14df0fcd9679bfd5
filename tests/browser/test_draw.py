"""Draw page in a real browser: draw digits with the mouse on the real canvas, read the prediction."""
import math
import re
import time
from pathlib import Path

import pytest
from conftest import no_exception
from playwright.sync_api import Page, expect

CANVAS = '[data-testid="stBidiComponentIsolated"] canvas.nnviz-pad'


def stroke(page: Page, points, steps: int = 3, up: bool = True) -> None:
    """One pen stroke through points given in canvas pixels (0..280); up=False keeps the pen down."""
    box = page.locator(CANVAS).bounding_box()
    x0, y0 = box["x"], box["y"]
    page.mouse.move(x0 + points[0][0], y0 + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x0 + x, y0 + y, steps=steps)
    if up:
        page.mouse.up()


def answered_seq(page: Page) -> int:
    """Which send of the canvas the prediction on screen answers (0: none, or not a drawing)."""
    mark = page.locator(".st-key-prediction [data-drawing-seq]")
    return int(mark.get_attribute("data-drawing-seq")) if mark.count() else 0


def prediction(page: Page, timeout: float = 15_000) -> str:
    """The text of the prediction container once it is there (it begins with the digit)."""
    box = page.locator(".st-key-prediction")
    expect(box).to_be_visible(timeout=timeout)
    return box.inner_text().strip()


def wait_prediction(page: Page, digit: str, timeout: float = 15_000) -> float:
    t0 = time.perf_counter()
    expect(page.locator(".st-key-prediction")).to_have_text(re.compile(rf"^\s*{digit}(?!\d)"), timeout=timeout)
    return time.perf_counter() - t0


def open_draw(page: Page) -> None:
    """Open /draw (a deep link works on a fresh server too: tests/browser/test_deep_link.py)."""
    page.goto("/draw")
    expect(page.locator(CANVAS)).to_be_visible(timeout=120_000)  # first use trains the default model


def save(page: Page, shots: Path, name: str) -> None:
    page.mouse.move(2, 2)  # away from the canvas: its hover toolbar hides
    path = shots / name
    page.screenshot(path=path, full_page=False)


@pytest.mark.timeout(240)
def test_draw_one_then_seven_with_the_mouse(page: Page, shots: Path):
    page.set_viewport_size({"width": 1280, "height": 720})
    open_draw(page)
    expect(page.get_by_text(re.compile("Draw a digit on the black square"))).to_be_visible()
    save(page, shots, "draw-empty-1280.png")

    # A small "1", drawn high up and to the left (a whole-canvas resize would miss it): the prediction
    # is there, and changes, while the pen is still down.
    stroke(page, [(70, 30), (72, 70), (73, 110), (74, 140)], up=False)
    wait_prediction(page, "1")
    first = answered_seq(page)
    box = page.locator(CANVAS).bounding_box()
    page.mouse.move(box["x"] + 75, box["y"] + 150, steps=4)  # a little longer, still drawing
    page.wait_for_function(  # a newer answer, pen still down
        "(n) => Number(document.querySelector('.st-key-prediction [data-drawing-seq]')?.dataset.drawingSeq) > n",
        arg=first, timeout=15_000)
    page.mouse.up()
    latency = wait_prediction(page, "1")
    text = prediction(page)
    assert re.match(r"^1(?!\d)", text), text
    assert "%" in text  # how sure it is
    no_exception(page)
    save(page, shots, "draw-one-1280.png")

    # A bar to the left of the top turns it into a 7; Undo takes the bar away again.
    stroke(page, [(20, 32), (45, 31), (70, 30)])
    wait_prediction(page, "7")
    page.get_by_test_id("stBaseButton-secondary").filter(has_text="Undo").click()  # ours, not the toolbar's
    wait_prediction(page, "1")

    # Clear, then a "7" drawn large in the middle.
    page.get_by_role("button", name="Clear").click()
    expect(page.locator(".st-key-prediction")).to_have_count(0, timeout=15_000)
    expect(page.locator(CANVAS)).to_be_visible(timeout=15_000)
    stroke(page, [(70, 60), (140, 60), (210, 60), (180, 130), (150, 200), (130, 250)])
    wait_prediction(page, "7")
    no_exception(page)
    save(page, shots, "draw-seven-1280.png")

    # Projector mode: a bigger canvas, the same answer.
    page.goto("/draw?present=1")
    expect(page.locator(CANVAS)).to_be_visible(timeout=30_000)
    assert page.locator(CANVAS).bounding_box()["width"] == 360
    stroke(page, [(90, 70), (180, 70), (270, 70), (230, 170), (190, 260), (170, 320)])
    wait_prediction(page, "7")
    no_exception(page)
    save(page, shots, "draw-present-1280.png")
    print(f"mouse-up to prediction on screen: {latency:.2f} s")


def touch_stroke(page: Page, points) -> None:
    """One finger stroke through points in canvas pixels (real touch events, through the DevTools protocol)."""
    box = page.locator(CANVAS).bounding_box()
    cdp = page.context.new_cdp_session(page)

    def touch(x, y):
        return [{"x": box["x"] + x, "y": box["y"] + y}]

    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": touch(*points[0])})
    for x, y in points[1:]:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": touch(x, y)})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


@pytest.mark.timeout(240)
def test_zero_with_a_finger_on_a_phone_and_test_digit(browser, base_url, shots: Path):
    """A phone (390 x 844, touch, 2x pixels): a "0" drawn with a finger; then a test digit."""
    context = browser.new_context(base_url=base_url, viewport={"width": 390, "height": 844},
                                  has_touch=True, is_mobile=True, device_scale_factor=2)
    page = context.new_page()
    try:
        open_draw(page)
        oval = [(140 + 55 * math.sin(2 * math.pi * t / 24), 140 - 85 * math.cos(2 * math.pi * t / 24))
                for t in range(26)]
        touch_stroke(page, oval)
        wait_prediction(page, "0")
        no_exception(page)
        save(page, shots, "draw-zero-phone.png")
        page.get_by_role("button", name="Show me a test digit").click()
        expect(page.get_by_text(re.compile(r"Held-out MNIST digit #\d+"))).to_be_visible(timeout=15_000)
        assert re.match(r"^\d(?!\d)", prediction(page))
        no_exception(page)
    finally:
        context.close()
