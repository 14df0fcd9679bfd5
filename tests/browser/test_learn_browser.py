"""/learn in a real browser: a click on the cost surface sets the start of gradient descent, Step
moves it, and Next walks through all five backprop steps and the update with Mazur's numbers.
Screenshots of every section at 1280x720 and 1920x1080 in projector mode go to
tests/browser/shots/learn-<section>-<size>.png (look at them)."""
import re

import pytest
from conftest import no_exception
from test_app import wait_until_run_done
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.timeout(240)
START = re.compile(r"Gradient descent: C = [0-9.]+ at w = \((-?[0-9.]+), (-?[0-9.]+)\)")
SIZES = {"1280x720": (1280, 720), "1920x1080": (1920, 1080)}


def _open(page: Page, query: str, width=1280, height=720) -> None:
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"learn?{query}")
    expect(page.get_by_role("heading", name="How a network learns")).to_be_visible(timeout=60_000)


def _descent_text(page: Page) -> str:
    loc = page.get_by_text(START)
    expect(loc).to_be_visible(timeout=30_000)
    return loc.inner_text()


def test_a_click_on_the_cost_surface_sets_the_start_and_step_moves_it(page: Page):
    _open(page, "section=descent")
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    expect(chart.locator("svg.marks, canvas").first).to_be_visible(timeout=30_000)
    before = START.search(_descent_text(page)).groups()
    assert before == ("-2.40", "2.40")  # the default start, top left
    chart.scroll_into_view_if_needed()
    box = chart.locator("svg.marks, canvas").first.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.70, box["y"] + box["height"] * 0.70)  # lower right
    expect(page.get_by_text(START).first).not_to_have_text(re.compile(r"at w = \(-2\.40, 2\.40\)"), timeout=30_000)
    w1, w2 = map(float, START.search(_descent_text(page)).groups())
    assert w1 > 0 and w2 < 0, (w1, w2)  # where the click was: w1 grows to the right, w2 upwards
    page.get_by_role("button", name="Step", exact=True).click()
    expect(page.get_by_test_id("stMetricValue").first).to_have_text("1", timeout=30_000)
    after = tuple(map(float, START.search(_descent_text(page)).groups()))
    assert after != (w1, w2)
    no_exception(page)


def test_next_walks_through_the_five_backprop_steps_with_mazurs_numbers(page: Page, shots):
    _open(page, "section=backprop&example=mazur&step=1")
    expected = {2: "0.593269992", 3: "0.138498562", 4: "0.008771355", 5: "0.082167041", 6: "0.35891648"}
    equations = page.locator(".st-key-learn_bp_equations")
    expect(page.get_by_text("Step 1 of 5: Input")).to_be_visible(timeout=30_000)
    for stage, number in expected.items():
        page.get_by_role("button", name="Next", exact=True).click()
        title = f"Step {stage} of 5" if stage <= 5 else "Then: the update"
        expect(page.get_by_text(re.compile(title))).to_be_visible(timeout=30_000)
        expect(equations.locator(".katex").filter(has_text=number).first).to_be_visible(timeout=30_000)
    assert re.search(r"step=6", page.url)
    expect(page.get_by_role("button", name="Next", exact=True)).to_be_disabled()
    page.get_by_role("button", name="Back", exact=True).click()
    expect(page.get_by_text("Step 5 of 5: Gradients")).to_be_visible(timeout=30_000)
    no_exception(page)


@pytest.mark.parametrize("size", list(SIZES))
def test_every_section_in_projector_mode(page: Page, shots, size):
    width, height = SIZES[size]
    for section, extra in [("neuron", ""), ("descent", ""), ("backprop", "&example=mazur&step=2"),
                           ("landscape", "")]:
        _open(page, f"section={section}{extra}&present=1", width, height)
        wait_until_run_done(page, timeout=90_000)
        chart = ".js-plotly-plot" if section in ("landscape", "backprop") else '[data-testid="stVegaLiteChart"] svg.marks'
        expect(page.locator(chart).first).to_be_visible(timeout=60_000)
        page.wait_for_timeout(1000)
        page.mouse.move(5, 5)
        no_exception(page)
        page.screenshot(path=shots / f"learn-{section}-{size}.png", timeout=90_000)
