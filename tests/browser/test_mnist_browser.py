"""MNIST page in a real browser: press Train and watch the weight pictures change; screenshots."""
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import no_exception
from playwright.sync_api import Page, expect

from nnviz.engine.model_files import load_model


def picture_src(page: Page, key: str, timeout: float = 30_000) -> str:
    """The URL of the picture in the element keyed <key>_box (Streamlit names media by content)."""
    img = page.locator(f".st-key-{key}_box img").first
    expect(img).to_be_visible(timeout=timeout)
    return img.get_attribute("src")


def changed(page: Page, key: str, old: str, timeout_s: float = 20.0) -> str:
    """The picture's URL once it differs from old (a redraw can lag the status line)."""
    for _ in range(int(timeout_s / 0.25)):
        new = picture_src(page, key)
        if new != old:
            return new
        page.wait_for_timeout(250)
    pytest.fail(f"picture {key} did not change in {timeout_s} s")


# The live elements; each must be updated in place, never rebuilt (a rebuilt chart blinks white).
LIVE = {"templates": ".st-key-mnist_templates_box img", "mistakes": ".st-key-mnist_mistakes_box img",
        "loss": ".st-key-mnist_loss_box [data-testid=stVegaLiteChart]",
        "accuracy": ".st-key-mnist_accuracy_box [data-testid=stVegaLiteChart]",
        "confusion": ".st-key-mnist_confusion_box [data-testid=stVegaLiteChart]"}
MARK_JS = """sel => { for (const s of Object.values(sel)) for (const e of document.querySelectorAll(s)) e.__nnviz = 1; }"""
REBUILT_JS = """sel => Object.entries(sel).filter(([k, s]) => {
    const els = [...document.querySelectorAll(s)].filter(e => e.offsetParent !== null);
    return els.length !== 1 || !els[0].__nnviz; }).map(([k]) => k)"""


def button(page: Page, name: str):
    """A control button by its Streamlit key (Plotly and Vega have buttons of their own)."""
    return page.locator(f".st-key-mnist_{name} button")


def open_mnist(page: Page) -> None:
    """Open /mnist (a deep link works on a fresh server too: tests/browser/test_deep_link.py)."""
    page.goto("/mnist")
    expect(page.get_by_text(re.compile(r"Epoch 0\b"))).to_be_visible(timeout=60_000)
    picture_src(page, "mnist_templates")


def save(page: Page, shots: Path, name: str, width: int, height: int) -> None:
    page.set_viewport_size({"width": width, "height": height})
    page.mouse.move(2, 2)
    page.wait_for_timeout(600)  # charts resize to the new width
    path = shots / name
    page.screenshot(path=path)


@pytest.mark.timeout(180)
def test_train_changes_the_weight_pictures(page: Page, shots: Path):
    open_mnist(page)
    before = picture_src(page, "mnist_templates")
    button(page, "train").click()
    expect(page.get_by_text(re.compile(r"Epoch [2-9] of 10"))).to_be_visible(timeout=60_000)
    during = changed(page, "mnist_templates", before)  # redrawn by the fragment's timer, no click
    page.evaluate(MARK_JS, LIVE)
    changed(page, "mnist_templates", during)  # one more epoch drawn...
    assert page.evaluate(REBUILT_JS, LIVE) == []  # ...into the same elements: nothing blinks
    save(page, shots, "mnist-training-1280x720.png", 1280, 720)  # live, mid-training
    pause = button(page, "pause")
    if pause.is_enabled():  # on a slow machine the ten epochs may be over already
        pause.click()
    expect(page.get_by_text(re.compile(r"\(paused\)"))).to_be_visible(timeout=60_000)
    expect(button(page, "train")).to_be_enabled()
    after = picture_src(page, "mnist_templates")
    assert after != before and during != before
    page.wait_for_timeout(1500)  # paused: the timer is off and nothing changes
    assert picture_src(page, "mnist_templates") == after
    save(page, shots, "mnist-paused-1920x1080.png", 1920, 1080)
    # the trained network downloads as an .npz that nnviz.engine.model_files reads back
    page.get_by_text("Model file: download this network").click()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download the model (.npz)").click()
    model = load_model(Path(info.value.path()))
    assert model.sizes == (784, 10) and float(np.abs(model.weights[0]).max()) > 0.1
    no_exception(page)


@pytest.mark.timeout(180)
def test_modern_preset_shows_hidden_weights_and_effective_templates(page: Page, shots: Path):
    open_mnist(page)
    page.get_by_role("button", name="Modern", exact=True).click()
    expect(page.get_by_text("Effective template of each digit")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("at the mean training image")).to_be_visible()
    hidden_before = picture_src(page, "mnist_hidden")
    page.get_by_role("button", name="Step", exact=True).click()
    expect(page.get_by_text(re.compile(r"Epoch 1 \(paused\)"))).to_be_visible(timeout=60_000)
    changed(page, "mnist_hidden", hidden_before)
    text = page.get_by_text(re.compile(r"test accuracy \d+\.\d%")).first.inner_text()
    assert float(re.search(r"test accuracy (\d+\.\d)%", text).group(1)) > 85
    save(page, shots, "mnist-modern-1280x720.png", 1280, 720)
    save(page, shots, "mnist-modern-1920x1080.png", 1920, 1080)
    no_exception(page)
