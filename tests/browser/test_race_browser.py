"""A race in a real browser, in projector mode: backprop against a genetic algorithm from the same
initial weights. Both boundaries start identical, then redraw frame after frame; the headlines
count forward passes (the GA's 100 individuals spend 100x backprop's); Pause, Step and rewind
work; screenshots at 1280x720 and 1920x1080 go to tests/browser/shots/playground-race-*.png."""
import re

import pytest
from conftest import no_exception
from playwright.sync_api import Page, expect
from test_playground_browser import DRAWN_JS, EPOCH_JS, VIEW, epoch, rewind_value

pytestmark = pytest.mark.timeout(180)

# Each boundary's canvas: [share of coloured pixels, fingerprint] (tests/browser/test_playground_browser.py).
PICTURES_JS = f"""() => ['left', 'right'].map(side => ({DRAWN_JS})([`pg_w_race_${{side}}`, 'plane']))"""
HEADLINES_JS = """() => [...document.querySelectorAll('[data-testid=stMarkdownContainer]')]
  .map(m => m.innerText).filter(t => t.includes('forward passes'))"""


def forward_passes(headline: str) -> int:
    return int(re.search(r"([\d,]+) forward passes", headline).group(1).replace(",", ""))


def test_a_race_in_projector_mode(page: Page, shots):
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto("playground?learn=race&hidden=8,8&present=1")
    expect(page.get_by_role("button", name="Play", exact=True)).to_be_visible(timeout=30_000)
    page.wait_for_function(f"() => ({PICTURES_JS})().every(([shown]) => shown > 0.3)", timeout=30_000)
    start = page.evaluate(f"() => (window.__start = ({PICTURES_JS})().map(([, f]) => f))")
    assert start[0] == start[1]  # the same network from the same weights draws the same boundary
    expect(page.get_by_role("radiogroup", name="Learn by").get_by_role("radio", name="Race")).to_be_checked()

    page.get_by_role("button", name="Play", exact=True).click()
    page.wait_for_function(f"() => parseInt(({EPOCH_JS})()) >= 15", timeout=60_000)
    # both redraw, and differently
    page.wait_for_function(f"""() => {{ const p = ({PICTURES_JS})().map(([, f]) => f);
        return p[0] !== window.__start[0] && p[1] !== window.__start[1] && p[0] !== p[1]; }}""", timeout=20_000)
    page.get_by_role("button", name="Pause", exact=True).click()
    expect(page.get_by_role("button", name="Play", exact=True)).to_be_visible()
    page.wait_for_timeout(1500)
    steps = epoch(page)
    backprop, ga = page.evaluate(HEADLINES_JS)
    assert backprop.startswith("Backprop") and ga.startswith("Genetic algorithm")
    assert f"epoch {steps:,}" in backprop and f"generation {steps:,}" in ga
    assert forward_passes(ga) == 100 * forward_passes(backprop) == 100 * 150 * steps
    # the loss race: two charts with a line for each method
    curves = page.locator('.st-key-pg_race_curves [data-testid="stVegaLiteChart"]')
    expect(curves).to_have_count(2)
    assert rewind_value(page) == steps
    page.locator('[data-testid="stMain"]').evaluate("e => e.scrollTo(0, 0)")
    page.mouse.move(5, 5)
    page.screenshot(path=shots / "playground-race-1280x720.png")

    page.get_by_role("button", name="Step", exact=True).click()
    page.wait_for_function(f"() => parseInt(({EPOCH_JS})()) === {steps + 1}", timeout=20_000)
    # the rival's best individuals as small boundaries
    expect(page.get_by_text(re.compile(r"Generation [\d,]+: the best individuals"))).to_be_visible()
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.wait_for_timeout(1500)
    page.mouse.move(5, 5)
    page.screenshot(path=shots / "playground-race-1920x1080.png")
    box = page.evaluate(f"""() => {{ const r = ({VIEW})('pg_w_race_left').parts.plane.canvas.getBoundingClientRect();
                            return {{y: r.y, height: r.height}}; }}""")
    assert box["height"] >= 450 and box["y"] + box["height"] <= 1080, box  # large, and on screen
    no_exception(page)
