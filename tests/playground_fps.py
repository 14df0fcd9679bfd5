"""Frames a second on the Playground (or MNIST) in a real browser, and what each frame costs the
browser (a benchmark, not a test).

    .venv/bin/python tests/playground_fps.py [--seconds 20] [--present] [--query 'dataset=spiral&hidden=8,8,8,8,8,8'] [--profile]
    .venv/bin/python tests/playground_fps.py --page mnist --seconds 4   # (tests/mnist_page_epoch.py: the full set)

Starts `streamlit run app.py` on a free loopback port, opens /playground in Debian's Chromium
(1280x720, or 1920x1080 with --present), presses Play (on /mnist: the preset network.py, 30
epochs, and Train) and for `--seconds`:

* frames/s: live frames that drew their charts, counted off the page's WebSocket (Streamlit's own
  ForwardMsg protobufs, as tests/load_sessions.py does);
* the browser's main-thread time per frame, from the DevTools protocol (Performance.getMetrics:
  TaskDuration, and of it ScriptDuration, LayoutDuration, RecalcStyleDuration), and the CPU time of
  every Chromium process per frame (from /proc);
* with --profile, the page's JavaScript functions that took the most self time (Profiler domain).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_sessions import Session, cpu_of, descendants  # noqa: E402 (tests/, the script's own folder)
from serving import CHROMIUM, CHROMIUM_ARGS, start_streamlit, stop  # noqa: E402

PAGES = {"playground": ("Play", "Pause"), "mnist": ("Train", "Pause")}
READY = '[data-testid="stApp"][data-test-script-state="notRunning"]'
METRICS = ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--present", action="store_true", help="projector mode at 1920x1080")
    ap.add_argument("--query", default="", help="Playground settings, as in its URL")
    ap.add_argument("--page", choices=sorted(PAGES), default="playground")
    ap.add_argument("--profile", action="store_true", help="also list the JavaScript functions with the most self time")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    log = open(Path(tempfile.mkdtemp(prefix="nnviz-fps-")) / "server.log", "w")
    proc, url = start_streamlit(log)
    query = "&".join(q for q in (args.query, "present=1" if args.present else "") if q)
    # Frames counted off the page's WebSocket as the load script counts them (a run that drew its
    # charts, even one that found the next tick queued and ended "early for rerun").
    session = Session(0)

    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            size = {"width": 1920, "height": 1080} if args.present else {"width": 1280, "height": 720}
            page = browser.new_page(viewport=size)
            page.on("websocket", session.on_websocket)
            start, stop_label = PAGES[args.page]
            page.goto(f"{url}/{args.page}" + (f"?{query}" if query else ""), timeout=120_000)
            page.wait_for_selector(READY, state="attached", timeout=120_000)
            page.wait_for_timeout(1500)
            cdp = page.context.new_cdp_session(page)
            cdp.send("Performance.enable")
            if args.page == "mnist":  # Nielsen's network.py: 30 epochs per Train, enough to measure
                page.get_by_role("button", name="network.py", exact=True).click()
                page.wait_for_timeout(1500)
            page.get_by_role("button", name=start, exact=True).click()
            if args.page == "mnist":  # Pause is always there, enabled while training
                page.wait_for_selector('.st-key-mnist_pause button:not([disabled])', timeout=60_000)
            else:
                page.get_by_role("button", name=stop_label, exact=True).wait_for(timeout=60_000)
            page.wait_for_timeout(2000 if args.page == "playground" else 1000)  # past the first frames (charts created)

            def metrics():
                return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}

            chromium = [p for p in descendants(os.getpid()) if p != proc.pid]
            if args.profile:
                cdp.send("Profiler.enable")
                cdp.send("Profiler.setSamplingInterval", {"interval": 200})
                cdp.send("Profiler.start")
            m0, c0, s0, t0 = metrics(), cpu_of(chromium), cpu_of([proc.pid]), time.perf_counter()
            session.counting = True
            page.wait_for_timeout(1000 * args.seconds)
            session.counting = False
            m1, c1, s1, t1 = metrics(), cpu_of(chromium), cpu_of([proc.pid]), time.perf_counter()
            profile = cdp.send("Profiler.stop")["profile"] if args.profile else None
            try:
                page.get_by_role("button", name=stop_label, exact=True).first.click(timeout=5000)
            except Exception:  # noqa: BLE001 - training may have finished already
                pass
            browser.close()
    finally:
        stop(proc)
    frames = session.frames
    n = max(frames, 1)
    r = {"frames_per_s": frames / (t1 - t0), "frames": frames, "seconds": t1 - t0,
         "browser_cpu_ms_per_frame": 1000 * (c1 - c0) / n, "server_cpu_ms_per_frame": 1000 * (s1 - s0) / n,
         **{f"{k}_ms_per_frame": 1000 * (m1[k] - m0[k]) / n for k in METRICS}}
    print(f"/{args.page}{'?' + query if query else ''} at {size['width']}x{size['height']}: "
          f"{r['frames_per_s']:.2f} frames/s ({frames} in {t1 - t0:.0f} s; runs started {session.started}, "
          f"full reruns {session.reruns}, cut short {session.interrupted})")
    print(f"  browser main thread per frame: {r['TaskDuration_ms_per_frame']:.0f} ms (script "
          f"{r['ScriptDuration_ms_per_frame']:.0f}, layout {r['LayoutDuration_ms_per_frame']:.0f}, style "
          f"{r['RecalcStyleDuration_ms_per_frame']:.0f}); all Chromium processes {r['browser_cpu_ms_per_frame']:.0f} ms CPU; "
          f"server {r['server_cpu_ms_per_frame']:.0f} ms CPU")
    if profile:
        nodes = {nd["id"]: nd for nd in profile["nodes"]}
        dt = statistics.mean(profile["timeDeltas"]) if profile["timeDeltas"] else 0
        self_ms: dict[str, float] = {}
        for sid in profile["samples"]:
            cf = nodes[sid]["callFrame"]
            key = f"{cf['functionName'] or '(anonymous)'} {Path(cf['url']).name}:{cf['lineNumber']}"
            self_ms[key] = self_ms.get(key, 0) + dt / 1000
        for key, ms in sorted(self_ms.items(), key=lambda kv: -kv[1])[:25]:
            print(f"  {ms / n:7.2f} ms/frame  {key}")
    if args.json:
        args.json.write_text(json.dumps(r, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
