"""The Break page in a real browser: attack a digit and see the network fooled; the other tabs draw."""
import re

from conftest import no_exception
from playwright.sync_api import Page, expect


def open_break(page: Page) -> None:
    """Home first, then the sidebar link: the way a class arrives (and app.py runs first)."""
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto("/")
    expect(page.get_by_role("heading", name=re.compile("how neural networks learn"))).to_be_visible(timeout=90_000)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Break").click(timeout=90_000)
    expect(page.get_by_role("heading", name="Can we break a neural network?")).to_be_visible(timeout=90_000)


def plots_drawn(page: Page, n: int, timeout: float = 20_000) -> None:
    page.wait_for_function(f"() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= {n}",
                           timeout=timeout)


def test_attack_fools_the_network(page: Page, shots):
    open_break(page)
    # The default attack (FGSM, eps 0.1) on held-out digit #0 already fools the default model.
    expect(page.get_by_text(re.compile(r"^Fooled\."))).to_be_visible(timeout=90_000)
    plots_drawn(page, 1)
    expect(page.get_by_text("FOOLED").first).to_be_visible()
    no_exception(page)
    page.mouse.move(5, 5)
    page.screenshot(path=shots / "break-attack.png")

    # Shrink eps to 0 with the keyboard: nothing changes, nothing is fooled.
    slider = page.get_by_role("slider", name=re.compile("eps"))
    slider.focus()
    page.keyboard.press("Home")
    expect(page.get_by_text(re.compile(r"^Not fooled"))).to_be_visible(timeout=10_000)
    page.keyboard.press("End")  # eps 0.5: fooled again
    expect(page.get_by_text(re.compile(r"^Fooled\."))).to_be_visible(timeout=10_000)

    # PGD at eps 0.1, aimed at 3.
    page.keyboard.press("Home")
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    expect(slider).to_have_attribute("aria-valuetext", "0.10")
    page.get_by_role("radio", name="PGD", exact=True).click()
    expect(page.get_by_role("slider", name="Steps")).to_be_visible()
    page.get_by_text("Targeted: choose its answer").click()
    expect(page.get_by_text(re.compile(r"^Fooled\. It now says 3"))).to_be_visible(timeout=10_000)
    page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot')]"
                           ".some(p => p.textContent.includes('Adversarial: 3'))", timeout=10_000)
    no_exception(page)
    page.mouse.move(5, 5)
    page.screenshot(path=shots / "break-targeted.png")


def test_other_tabs_draw(page: Page, shots):
    open_break(page)
    expect(page.get_by_text(re.compile(r"^Fooled\."))).to_be_visible(timeout=90_000)

    page.get_by_role("tab", name="Fooling images").click()
    expect(page.get_by_text(re.compile(r"10 of 10 got there"))).to_be_visible(timeout=10_000)
    plots_drawn(page, 1)
    page.mouse.move(5, 5)
    page.screenshot(path=shots / "break-fooling.png")

    page.get_by_role("tab", name="Why it works").click()
    page.get_by_role("button", name="Train the template network").click()
    expect(page.get_by_text(re.compile(r"agrees with the sign of"))).to_be_visible(timeout=20_000)
    plots_drawn(page, 1)
    page.mouse.move(5, 5)
    page.screenshot(path=shots / "break-why.png")

    page.get_by_role("tab", name="Robustness and defence").click()
    expect(page.get_by_text(re.compile(r"At eps 0.1: FGSM"))).to_be_visible(timeout=90_000)
    page.get_by_role("button", name="Train adversarially").click()
    expect(page.get_by_text(re.compile(r"Adversarially trained, eps 0.1"))).to_be_visible(timeout=60_000)
    no_exception(page)
    page.mouse.move(5, 5)
    page.screenshot(path=shots / "break-robust.png")
