"""How fast the Draw page answers in a real browser (a benchmark, not a test).

    .venv/bin/python tests/draw_latency.py [--strokes 20] [--present] [--json out.json]

Starts `streamlit run app.py` on a free loopback port, opens /draw in Debian's Chromium and draws
strokes with the mouse at a person's pace (a point every 16 ms, about a second a stroke). In the
page, a pointer listener and a MutationObserver on the prediction record (performance.now()):
pen-down, pen-up, and every change of the prediction on screen with the canvas send it answers
(the prediction carries it as data-drawing-seq). Per stroke:

* mouse-up -> prediction: from pen-up to the first change on screen that answers the canvas's last
  send (the one made at pen-up);
* updates while drawing: the changes of the prediction on screen between pen-down and pen-up,
  per second of stroke.

Every other stroke is followed by Clear, so strokes are drawn both on an empty and on a busy canvas.
The browser and the server share the machine's cores, as a lecturer's laptop would.
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serving import CHROMIUM, CHROMIUM_ARGS, start_streamlit, stop  # noqa: E402 (tests/, the script's own folder)

CANVAS = '[data-testid="stBidiComponentIsolated"] canvas.nnviz-pad'
PAD = 'document.querySelector(\'[data-testid="stBidiComponentIsolated"]\').shadowRoot.__nnvizPad'
# In the page: a log of pen events and of the prediction's changes on screen.
OBSERVER = """() => {
  const log = window.__nnvizLog = [];
  window.addEventListener('pointerdown', () => log.push({t: performance.now(), kind: 'down'}), true);
  window.addEventListener('pointerup', () => log.push({t: performance.now(), kind: 'up'}), true);
  let last = null;
  const look = () => {
    const box = document.querySelector('.st-key-prediction');
    const mark = box && box.querySelector('[data-drawing-seq]');
    const now = box ? box.innerText.trim() + '|' + (mark ? mark.dataset.drawingSeq : '') : '';
    if (now !== last) {
      last = now;
      log.push({t: performance.now(), kind: 'answer', text: box ? box.innerText.trim().split('\\n')[0] : '',
                seq: mark ? Number(mark.dataset.drawingSeq) : null});
    }
  };
  new MutationObserver(look).observe(document.body, {subtree: true, childList: true, characterData: true,
                                                     attributes: true});
}"""


def strokes_to_draw(i: int, size: int) -> list[tuple[float, float]]:
    """Stroke i in canvas pixels: alternately a "1", a "7" and a "0", about 60 points each."""
    k = size / 280
    kind = i % 3
    if kind == 0:
        pts = [(140, 40 + 200 * t / 59) for t in range(60)]
    elif kind == 1:
        top = [(80 + 120 * t / 24, 60) for t in range(25)]
        pts = top + [(200 - 80 * t / 34, 60 + 170 * t / 34) for t in range(1, 35)]
    else:
        pts = [(140 + 55 * math.sin(2 * math.pi * t / 59), 140 - 85 * math.cos(2 * math.pi * t / 59))
               for t in range(60)]
    return [(x * k, y * k) for x, y in pts]


def draw(page, points, box, pace: float) -> None:
    page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        t0 = time.perf_counter()
        page.mouse.move(box["x"] + x, box["y"] + y)
        time.sleep(max(0.0, pace - (time.perf_counter() - t0)))
    page.mouse.up()


def measure(n_strokes: int, present: bool, pace: float) -> dict:
    log_file = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
    proc, url = start_streamlit(log_file)
    results = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.goto(url + ("/draw?present=1" if present else "/draw"))
            page.locator(CANVAS).wait_for(timeout=120_000)
            page.wait_for_timeout(1000)
            page.evaluate(OBSERVER)
            size = page.locator(CANVAS).bounding_box()["width"]
            for i in range(n_strokes):
                box = page.locator(CANVAS).bounding_box()
                page.evaluate("() => { window.__nnvizLog.length = 0; }")
                draw(page, strokes_to_draw(i, size), box, pace)
                last_seq = page.evaluate(f"() => {PAD}.seq")
                page.wait_for_function(
                    "(seq) => window.__nnvizLog.some(e => e.kind === 'answer' && e.seq === seq)", arg=last_seq,
                    timeout=15_000)
                page.wait_for_timeout(300)  # the whole page's rerun after pen-up settles
                log = page.evaluate("() => window.__nnvizLog")
                down = next(e["t"] for e in log if e["kind"] == "down")
                up = next(e["t"] for e in log if e["kind"] == "up")
                answer = next(e["t"] for e in log if e["kind"] == "answer" and e["seq"] == last_seq)
                during = [e for e in log if e["kind"] == "answer" and down <= e["t"] < up and e["text"]]
                results.append({"stroke": i, "up_to_answer_ms": answer - up, "stroke_s": (up - down) / 1000,
                                "updates_during": len(during), "updates_per_s": len(during) / ((up - down) / 1000),
                                "answer": next(e["text"] for e in log if e["kind"] == "answer" and e["seq"] == last_seq)})
                if i % 2 == 1:
                    page.get_by_role("button", name="Clear").click()
                    page.locator(".st-key-prediction").wait_for(state="detached", timeout=15_000)
                    page.wait_for_timeout(300)
            browser.close()
    finally:
        stop(proc)
    server_log = Path(log_file.name).read_text()
    lat = [r["up_to_answer_ms"] for r in results]
    ups = [r["updates_per_s"] for r in results]
    return {"strokes": results, "present": present, "pace_ms": pace * 1000,
            "up_to_answer_ms_median": statistics.median(lat), "up_to_answer_ms_max": max(lat),
            "updates_per_s_median": statistics.median(ups), "updates_per_s_min": min(ups),
            "tracebacks": server_log.count("Traceback")}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strokes", type=int, default=20)
    ap.add_argument("--present", action="store_true", help="projector mode (a 360 px canvas)")
    ap.add_argument("--pace-ms", type=float, default=16.0, help="time between two mouse moves")
    ap.add_argument("--json", type=Path, help="write the figures to this file as well")
    a = ap.parse_args(argv)
    r = measure(a.strokes, a.present, a.pace_ms / 1000)
    for s in r["strokes"]:
        print(f"stroke {s['stroke']:2d}: {s['stroke_s']:.2f} s, {s['updates_during']:2d} updates while drawing "
              f"({s['updates_per_s']:.1f}/s), mouse-up -> prediction {s['up_to_answer_ms']:6.1f} ms, answer "
              f"{s['answer']!r}")
    print(f"mouse-up -> prediction on screen: median {r['up_to_answer_ms_median']:.0f} ms, max "
          f"{r['up_to_answer_ms_max']:.0f} ms (target <= 150 ms median)")
    print(f"prediction updates while drawing: median {r['updates_per_s_median']:.1f}/s, min "
          f"{r['updates_per_s_min']:.1f}/s (target >= 5/s); server tracebacks: {r['tracebacks']}")
    if a.json:
        a.json.write_text(json.dumps(r, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
