"""Click storms in a real browser: random Play/Pause/Step/Reset (Train/Pause/Step/Reset on /mnist)
20-50 ms apart for 10 s, as a hurried lecturer or a student on a phone would. Afterwards the session
is alive: it answers a Step, shows no exception, and the browser logged no lost message (Streamlit's
`Cached ForwardMsg MISS` ends a session for good). The server log is checked for tracebacks by the
conftest's fixture."""
import re

import pytest
from conftest import no_exception
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

pytestmark = pytest.mark.timeout(300)  # the storm is 10 s; the rest waits for a loaded machine

STORM_SECONDS = 10
# In the page, so the clicks really come 20-50 ms apart (a Playwright round trip per click takes
# longer). The clicks are planned on the clock: while the page is busy drawing, the ones due wait
# and then come in a burst, as a hurried user's clicks queue in a busy browser. A seeded generator
# picks the buttons, so a failure can be replayed. A button that is not there or is disabled (Play
# while playing, Step while training) swallows its click, as it would a real one.
STORM_JS = """async ({labels, seconds, seed}) => {
  let s = seed >>> 0;
  const rand = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const start = performance.now(), end = start + seconds * 1000, clicked = {planned: 0};
  let due = start;
  while (due < end) {
    while (due <= performance.now() && due < end) {
      clicked.planned++;
      const label = labels[Math.floor(rand() * labels.length)];
      const b = [...document.querySelectorAll('[data-testid=stMain] button')]
        .find(e => e.offsetParent !== null && e.innerText.trim().endsWith(label));
      if (b && !b.disabled) { b.click(); clicked[label] = (clicked[label] || 0) + 1; }
      due += 20 + rand() * 30;
    }
    await new Promise(r => setTimeout(r, Math.max(0, due - performance.now())));
  }
  return clicked;
}"""
EPOCH_JS = "() => { const e = document.querySelector('[data-testid=stMetricValue]'); return e ? e.innerText : ''; }"
FATAL = ("Cached ForwardMsg MISS", "Failed to process a Websocket message", "Bad delta path index")


def watch_console(page: Page) -> list[str]:
    """Every console message and uncaught page error, as text, from now on."""
    seen: list[str] = []
    page.on("console", lambda m: seen.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: seen.append(f"pageerror: {e}"))
    return seen


def storm(page: Page, labels: list[str], seed: int) -> dict:
    return page.evaluate(STORM_JS, {"labels": labels, "seconds": STORM_SECONDS, "seed": seed})


def assert_no_fatal_message(console: list[str]) -> None:
    fatal = [line for line in console if any(f in line for f in FATAL)]
    assert not fatal, fatal[:3]


def assert_alive(page: Page, console: list[str]) -> None:
    assert_no_fatal_message(console)
    expect(page.get_by_text("Connection error")).to_have_count(0)
    no_exception(page)


def click_unless_gone(button) -> None:
    """Click a Pause seen a moment ago. A click of the storm still in the server's queue may turn it
    into Play (or disable it) first: then there is nothing to click, and settled() looks again."""
    try:
        button.click(timeout=5_000)
    except PlaywrightTimeout:
        pass


def paused_playground_epoch(page: Page) -> int | None:
    pause = page.get_by_role("button", name="Pause", exact=True)
    if pause.is_visible():  # a Play click was still on its way
        click_unless_gone(pause)
        return None
    return int(re.sub(r"\D", "", page.evaluate(EPOCH_JS).split("/")[0]) or -1)


def settled(page: Page, read, seconds: float = 90):
    """read(page) once it gives the same answer (not None) twice, a second apart: the clicks still
    in the server's queue have been answered. read() pauses a run that plays and gives None."""
    last = read(page)
    for _ in range(int(seconds)):
        page.wait_for_timeout(1000)
        now = read(page)
        if now == last and now is not None:
            return now
        last = now
    pytest.fail(f"still changing after {seconds:.0f} s: {last}")


def test_playground_survives_a_click_storm(page: Page, shots):
    # The settings: long frames (20 epochs of 500 single-example batches), so clicks land
    # while a frame is still training.
    console = watch_console(page)
    page.goto("playground?speed=20&n=1000&batch=1&hidden=16,16")
    play = page.get_by_role("button", name="Play", exact=True)
    expect(play).to_be_visible(timeout=60_000)
    clicked = storm(page, ["Play", "Pause", "Step", "Reset"], 2)
    assert_no_fatal_message(console)
    no_exception(page)
    assert clicked["planned"] >= 200 and sum(clicked.values()) - clicked["planned"] >= 100, clicked

    before = settled(page, paused_playground_epoch)
    assert before >= 0
    page.get_by_role("button", name="Step", exact=True).click()
    page.wait_for_function(f"() => parseInt(({EPOCH_JS})().replace(/\\D/g, '')) === {before + 1}", timeout=60_000)
    assert_alive(page, console)
    page.screenshot(path=shots / "playground-after-storm.png")


def paused_mnist_epoch(page: Page) -> int | None:
    pause = page.get_by_role("button", name="Pause", exact=True)
    if pause.is_enabled():
        click_unless_gone(pause)
        return None
    line = page.get_by_text(re.compile(r"Epoch \d+ \((paused|ready)\)")).first.inner_text(timeout=60_000)
    return int(re.search(r"Epoch (\d+)", line).group(1))


def test_mnist_survives_a_click_storm(page: Page, shots):
    console = watch_console(page)
    page.goto("mnist")
    expect(page.get_by_role("button", name="Train", exact=True)).to_be_enabled(timeout=120_000)
    expect(page.get_by_text(re.compile(r"Epoch 0 \(ready\)"))).to_be_visible(timeout=60_000)
    clicked = storm(page, ["Train", "Pause", "Step", "Reset"], 3)
    assert_no_fatal_message(console)
    no_exception(page)
    assert clicked["planned"] >= 200 and sum(clicked.values()) - clicked["planned"] >= 100, clicked

    before = settled(page, paused_mnist_epoch)
    step = page.get_by_role("button", name="Step", exact=True)
    expect(step).to_be_enabled(timeout=60_000)
    step.click()
    expect(page.get_by_text(re.compile(rf"Epoch {before + 1} \(paused\)"))).to_be_visible(timeout=120_000)
    assert_alive(page, console)
    page.screenshot(path=shots / "mnist-after-storm.png")
