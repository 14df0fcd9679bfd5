"""The Playground in a real browser: Play redraws the canvases frame after frame (in place, no
remount), Pause stops it; a click on a neuron shows it large; a bad CSV gets a message. Screenshots at 1280x720 and 1920x1080 go to
tests/browser/shots/playground-*.png; the measured frame rate to playground-fps.txt."""
import contextlib
import re
import time

import pytest
from conftest import no_exception
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.timeout(120)

EPOCH_JS = "() => { const e = document.querySelector('[data-testid=stMetricValue]'); return e ? e.innerText : ''; }"
# A live view (nnviz/ui/playground_canvas.js) by its key: the object the module keeps on its shadow root.
VIEW = "(key) => { const h = document.querySelector(`.st-key-${key} [data-testid=stBidiComponentIsolated]`); " \
       "return h && h.shadowRoot && h.shadowRoot.__nnvizPlayground; }"
# What a canvas of a view shows: the share of its pixels that are neither blank nor white, and a
# fingerprint of a sample of them (it changes when the picture does).
DRAWN_JS = f"""([key, part, which]) => {{ const v = ({VIEW})(key); const p = v && v.parts[part];
  const c = p && (p.canvas || p.charts[which || 0].canvas); if (!c || !c.width) return [0, ''];
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0, f = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && (d[i] < 235 || d[i + 1] < 235 || d[i + 2] < 235)) n++;
  for (let i = 0; i < d.length; i += 4 * 97) f = (f * 31 + d[i] + 7 * d[i + 1] + 13 * d[i + 2]) % 1000000007;
  return [n / (c.width * c.height), String(f)]; }}"""
HEADLINE_JS = f"() => {{ const v = ({VIEW})('pg_w_plane'); const h = v && v.parts.headline; " \
              "return h ? h.el.textContent : ''; }"
# Frames counted in the page: every change of the epoch counter (no polling from Python).
# Also watched at every DOM change: the four canvases and the loss line never go missing (a flash).
COUNT_JS = f"""() => {{ window.__pgFrames = 0; window.__pgGaps = 0; let last = null;
  new MutationObserver(() => {{ const e = document.querySelector('[data-testid=stMetricValue]');
    const t = e && e.textContent; if (t && t !== last) {{ last = t; window.__pgFrames++; }}
    if (!window.__pgWatch) return;
    const hosts = [...document.querySelectorAll('[data-testid=stBidiComponentIsolated]')];
    const canvases = hosts.reduce((n, h) => n + (h.shadowRoot ? h.shadowRoot.querySelectorAll('canvas').length : 0), 0);
    if (canvases < 4 || !({HEADLINE_JS})().includes('training loss')) window.__pgGaps++; }})
  .observe(document.body, {{subtree: true, childList: true, characterData: true}}); }}"""
# Tag the live canvases: a view that was mounted afresh would lose its tags.
TAG_JS = "() => document.querySelectorAll('[data-testid=stBidiComponentIsolated]')" \
         ".forEach(h => h.shadowRoot.querySelectorAll('canvas').forEach(c => c.dataset.pgTag = 'live'))"
TAGGED_JS = "() => [...document.querySelectorAll('[data-testid=stBidiComponentIsolated]')]" \
            ".reduce((n, h) => n + h.shadowRoot.querySelectorAll('canvas[data-pg-tag]').length, 0)"


def drawn(page: Page, key: str, part: str, which: int = 0) -> tuple[float, str]:
    return tuple(page.evaluate(DRAWN_JS, [key, part, which]))


def plane_picture(page: Page) -> str:
    return drawn(page, "pg_w_plane", "plane")[1]


def epoch(page: Page) -> int:
    return int(re.sub(r"\D", "", page.evaluate(EPOCH_JS).split("/")[0]) or -1)


def rewind_value(page: Page) -> int:
    """The rewind slider's value as the browser shows it."""
    return int(page.locator('[data-testid="stSlider"]').filter(has_text="Rewind: show epoch")
               .locator('input[type="range"]').get_attribute("aria-valuetext"))


def open_playground(page: Page, width: int = 1280, height: int = 720) -> None:
    page.set_viewport_size({"width": width, "height": height})
    page.goto("playground")
    expect(page.get_by_role("heading", name="Playground")).to_be_visible(timeout=30_000)
    page.wait_for_function(f"() => ({DRAWN_JS})(['pg_w_plane', 'plane'])[0] > 0.3", timeout=30_000)


def test_play_redraws_the_boundary_frame_after_frame_and_pause_stops(page: Page, shots):
    open_playground(page)
    page.mouse.move(5, 5)
    page.screenshot(path=shots / "playground-1280x720.png")
    assert epoch(page) == 0
    page.evaluate(COUNT_JS)
    page.get_by_role("button", name="Play", exact=True).click()
    # Epoch 2 comes with the full rerun that Play causes; from epoch 4 on, frames are fragment runs.
    page.wait_for_function(f"() => parseInt(({EPOCH_JS})()) >= 4", timeout=20_000)
    page.evaluate(TAG_JS)
    page.evaluate("window.__pgWatch = true")
    n_tagged = page.evaluate(TAGGED_JS)
    assert n_tagged == 4  # network, loss, accuracy, boundary
    # every canvas shows something: the boundary fills its square, the diagram and the curves are drawn
    assert drawn(page, "pg_w_plane", "plane")[0] > 0.4
    assert drawn(page, "pg_w_network", "network")[0] > 0.05
    assert all(drawn(page, "pg_w_network", "curves", i)[0] > 0.01 for i in (0, 1))

    # Frame after frame: the epoch grows and the boundary picture changes.
    pictures, epochs = [], []
    frames0, t0 = page.evaluate("window.__pgFrames"), time.perf_counter()
    for _ in range(6):
        page.wait_for_timeout(600)
        pictures.append(plane_picture(page))
        epochs.append(epoch(page))
    seconds = time.perf_counter() - t0
    frames = page.evaluate("window.__pgFrames") - frames0
    fps = frames / seconds
    (shots / "playground-fps.txt").write_text(
        f"{fps:.2f} frames per second while playing ({frames} frames in {seconds:.1f} s, "
        f"viewport 1280x720, default network)\n")
    print(f"\nPlayground: {fps:.2f} frames/s")
    assert epochs == sorted(epochs) and epochs[-1] > epochs[0], epochs
    assert len(set(pictures)) >= 3, "the boundary did not change between frames"
    assert fps >= 0.8  # the target is >= 9.5 on an idle machine; this only catches a stalled timer
    # Redrawn in place: the same chart elements throughout (no remount, no blank flash).
    assert page.evaluate(TAGGED_JS) == n_tagged
    assert page.evaluate("window.__pgGaps") == 0, "a view or the loss line went missing during a frame"
    page.screenshot(path=shots / "playground-playing-1280x720.png")

    page.get_by_role("button", name="Pause", exact=True).click()
    expect(page.get_by_role("button", name="Play", exact=True)).to_be_visible()
    page.wait_for_timeout(500)
    frozen, picture = epoch(page), plane_picture(page)
    page.wait_for_timeout(1500)
    assert epoch(page) == frozen and plane_picture(page) == picture
    # Rewind slider appears once paused, at the latest epoch.
    expect(page.get_by_text("Rewind: show epoch")).to_be_visible()
    assert rewind_value(page) == frozen
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.wait_for_timeout(800)
    page.mouse.move(5, 5)
    page.screenshot(path=shots / "playground-1920x1080.png")
    no_exception(page)


@contextlib.contextmanager
def projector_playground(browser, base_url: str, width: int, height: int):
    """A fresh session on /playground?present=1 at this screen size, ready to Play; checked for
    exceptions at the end."""
    context = browser.new_context(base_url=base_url, viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        page.goto("playground?present=1")
        expect(page.get_by_role("button", name="Play", exact=True)).to_be_visible(timeout=30_000)
        page.wait_for_timeout(1000)
        yield page
        no_exception(page)
    finally:
        context.close()


def test_after_pause_the_rewind_slider_shows_the_latest_epoch_in_projector_mode(browser, base_url: str):
    """Pause can land while a frame's timer tick is on its way. In projector mode the new rewind
    slider then fell back to 0 in the browser while the charts showed the latest epoch."""
    with projector_playground(browser, base_url, 1920, 1080) as page:
        for wait in (1500, 1870, 2240, 1100, 1650, 1330):  # a race: the old code failed 1-3 times in 4
            page.get_by_role("button", name="Play", exact=True).click()
            page.wait_for_timeout(wait)
            page.get_by_role("button", name="Pause", exact=True).click()
            expect(page.get_by_role("button", name="Play", exact=True)).to_be_visible()
            page.wait_for_timeout(1500)
            assert rewind_value(page) == epoch(page), (wait, rewind_value(page), epoch(page))


@pytest.mark.parametrize("width, height, least", [(1280, 720, 300), (1920, 1080, 560)])
def test_the_boundary_fills_a_projector_screen_and_fits_on_it(browser, base_url: str, width, height, least):
    """In projector mode the plane's chart takes the height left under the controls: whole on a
    720p screen, large on a 1080p one (a fixed height left a small square on a big screen)."""
    with projector_playground(browser, base_url, width, height) as page:
        page.wait_for_function(f"() => ({DRAWN_JS})(['pg_w_plane', 'plane'])[0] > 0.3", timeout=30_000)
        box = page.evaluate(f"""() => {{ const r = ({VIEW})('pg_w_plane').parts.plane.canvas.getBoundingClientRect();
                                return {{y: r.y, height: r.height}}; }}""")
        assert box["height"] >= least, box
        assert box["y"] + box["height"] <= height + 20, box  # on screen without scrolling


def test_neuron_click_and_csv_upload(page: Page, shots, tmp_path):
    open_playground(page, 1280, 900)
    # Click a hidden neuron in the diagram (the second of hidden layer 1, where the view drew it):
    # its picture is shown large, and the picker and the headline follow.
    before = plane_picture(page)
    hits = page.evaluate(f"() => ({VIEW})('pg_w_network').parts.network.hits.map(h => [h.x, h.y, h.layer, h.index])")
    assert len(hits) == 10  # 2 + 4 + 2 + 2 neurons
    x, y = next((x, y) for x, y, layer, index in hits if (layer, index) == (1, 1))
    canvas = page.evaluate(f"() => {{ const r = ({VIEW})('pg_w_network').parts.network.canvas.getBoundingClientRect(); "
                           "return [r.x, r.y]; }")
    page.mouse.click(canvas[0] + x, canvas[1] + y)
    expect(page.locator(".st-key-pg_w_view input")).to_have_value("Hidden layer 1, neuron 2", timeout=20_000)
    page.wait_for_function(f"() => ({HEADLINE_JS})().startsWith('Hidden layer 1, neuron 2 \u00b7 test loss')",
                           timeout=20_000)
    page.wait_for_function(f"() => ({VIEW})('pg_w_plane').data.plane.picture.pal === 'div'", timeout=20_000)
    shown, large = drawn(page, "pg_w_plane", "plane")
    assert shown > 0.3 and large != before
    page.screenshot(path=shots / "playground-neuron.png")
    page.mouse.dblclick(canvas[0] + x, canvas[1] + y)  # back to the output
    expect(page.locator(".st-key-pg_w_view input")).to_have_value("Decision boundary", timeout=20_000)
    page.wait_for_function(f"() => ({HEADLINE_JS})().startsWith('Output \u00b7')", timeout=20_000)

    good = tmp_path / "ring.csv"
    good.write_text("x1,x2,label\n" + "".join(
        f"{0.3 * (i % 7) - 0.9},{0.3 * (i // 7) - 0.9},{int(((i % 7) - 3) ** 2 + ((i // 7) - 3) ** 2 > 4)}\n"
        for i in range(49)))
    bad = tmp_path / "bad.csv"
    bad.write_text("x1,x2,label\n1,2,0\n3,oops,1\n4,4,1\n5,5,0\n")
    uploader = page.locator(".st-key-pg_w_upload input[type=file]")
    uploader.set_input_files(str(good))
    expect(page.get_by_text(re.compile(r"ring\.csv: 49 points, 2 classes"))).to_be_visible(timeout=20_000)
    expect(page.locator(".st-key-pg_w_dataset input")).to_have_value("Uploaded CSV")
    uploader.set_input_files(str(bad))
    expect(page.get_by_text(re.compile(r"bad\.csv: .*'oops' is not a number.*previous data stays"))) \
        .to_be_visible(timeout=20_000)
    expect(page.locator(".st-key-pg_w_dataset input")).to_have_value("Uploaded CSV")
    page.screenshot(path=shots / "playground-csv.png")
    no_exception(page)
