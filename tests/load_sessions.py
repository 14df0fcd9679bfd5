"""A lecture hall on one server: N browser sessions all press Play at once (a benchmark, not a test).

    .venv/bin/python tests/load_sessions.py --sessions 5 --seconds 60 [--page playground|mnist] [--json out.json]

Starts `streamlit run app.py` on a free loopback port, opens N sessions (Playwright contexts in
Debian's Chromium: one browser, N independent cookie jars = N Streamlit sessions), presses Play on
/playground (or Train on /mnist) in all of them at once, and for the given time counts:

* errors: exceptions shown on any page, uncaught page errors, lost websocket connections, and
  tracebacks in the server log; there must be none;
* frames per session: live-view updates the server delivered (fragment runs that finished,
  read off each session's websocket as Streamlit's own ForwardMsg protobufs), and epochs trained;
* server memory: RSS of the streamlit process from /proc, before the sessions, once they are open,
  and at the end; per session = (end - before) / N: everything one session holds (its model,
  data, snapshots for the rewind, widget state), plus the server's per-connection overhead.

The browser runs on the same 2 cores as the server and draws every frame of every session, so the
figures are for a worst case: in a hall each student's browser runs on their own laptop.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.async_api import async_playwright
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # nnviz, when run as a script from anywhere
from serving import CHROMIUM, CHROMIUM_ARGS, start_streamlit, stop  # noqa: E402 (tests/, the script's own folder)

# every session's tab keeps running at full speed although none is in front
LOAD_CHROMIUM_ARGS = CHROMIUM_ARGS + ["--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                                      "--disable-backgrounding-occluded-windows"]
ACTIONS = {"playground": ("/playground", "Play"), "mnist": ("/mnist", "Train")}
READY = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def rss_mb(pid: int) -> float:
    """Resident memory of one process (MB), from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def descendants(pid: int) -> list[int]:
    """Every process below pid (from /proc): here, Playwright's driver and Chromium's processes."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


BROWSER_NICE = 10


def deprioritize(pids: list[int], nice: int = BROWSER_NICE) -> None:
    """Run the browser below the server (nice 10, every thread: Linux niceness is per
    thread, and Chromium raises some of its own to -8 when it can). In a hall each browser runs on
    a student's own laptop; here its 20 tabs would otherwise take the server's cores away from it."""
    for pid in pids:
        for task in Path(f"/proc/{pid}/task").glob("[0-9]*"):
            try:
                os.setpriority(os.PRIO_PROCESS, int(task.name), nice)
            except OSError:
                pass  # gone, or not ours


async def keep_browser_below_server(server_pid: int, nice: int) -> None:
    """deprioritize() the browser's processes now and every second (tabs start new ones)."""
    while True:
        deprioritize([p for p in descendants(os.getpid()) if p != server_pid], nice)
        await asyncio.sleep(1.0)


def cpu_of(pids: list[int]) -> float:
    total = 0.0
    for p in pids:
        try:
            total += cpu_seconds(p)
        except (OSError, IndexError):
            pass  # gone
    return total


def start_server(log_path: Path) -> tuple[subprocess.Popen, str]:
    try:
        return start_streamlit(open(log_path, "w"))
    except RuntimeError as e:
        raise SystemExit(str(e))


MIN_FRAME_DELTAS = 3  # a drawn live frame sends at least the epoch counter and two charts


class Session:
    """One student: a browser context, its page, and what its websocket delivered."""

    def __init__(self, index: int):
        self.index = index
        self.frames = 0  # fragment (live view) runs finished
        self.reruns = 0  # full script runs finished
        self.started = 0  # runs started
        self.interrupted = 0  # runs cut short by the next rerun request (the timer ticked again first)
        self.errors: list[str] = []
        self.deltas = 0  # elements delivered by the run in progress
        self.counting = False
        self.epoch_start = self.epoch_end = None

    def on_websocket(self, ws) -> None:
        if self.counting:  # Streamlit's client reconnected: the old socket was lost
            self.errors.append(f"websocket reopened at {time.strftime('%H:%M:%S')}")
        ws.on("framereceived", self.on_frame)
        ws.on("close", self.on_close)

    def on_close(self, _ws) -> None:
        if self.counting:
            self.errors.append(f"websocket closed at {time.strftime('%H:%M:%S')} after {self.frames} frames")

    def on_frame(self, payload) -> None:
        if isinstance(payload, str) or not self.counting:
            return
        msg = ForwardMsg.FromString(payload)
        kind = msg.WhichOneof("type")
        if kind == "new_session":  # sent as every run (full or fragment) starts
            self.started += 1
            self.deltas = 0
        elif kind == "delta":
            self.deltas += 1
        elif kind == "script_finished":
            # A live frame that drew its charts. One cut short (a click, or the page's own
            # st.rerun) drew little or nothing.
            drew = self.deltas >= MIN_FRAME_DELTAS
            if msg.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                self.reruns += 1
            elif drew:
                self.frames += 1
            elif msg.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                self.interrupted += 1


async def epoch_of(page) -> float | None:
    """The page's epoch counter (an st.metric labelled Epoch, or 'Epoch N' in the text)."""
    text = await page.get_by_test_id("stMain").inner_text()
    m = re.search(r"Epoch\s*\n?\s*([0-9][0-9,.]*)", text)
    return float(m.group(1).replace(",", "")) if m else None


async def open_session(browser, url: str, path: str, s: Session):
    context = await browser.new_context(viewport={"width": 1280, "height": 720})
    page = await context.new_page()
    page.on("websocket", s.on_websocket)
    page.on("pageerror", lambda e: s.errors.append(f"page error: {e}"))
    page.on("crash", lambda _p: s.errors.append("page crashed"))
    # Streamlit's client logs why a socket closed ("WebSocket onclose: code=...").
    page.on("console", lambda m: s.errors.append(f"console: {m.text}")
            if s.counting and "websocket" in m.text.lower() else None)
    await page.goto(url + path, timeout=120_000)
    await page.locator("h1").first.wait_for(timeout=120_000)
    await page.wait_for_selector(READY, state="attached", timeout=120_000)
    return context, page


async def started_playing(page) -> bool:
    try:
        await page.get_by_role("button", name="Pause", exact=True).first.wait_for(timeout=60_000)
        return True
    except Exception:
        return False


async def exceptions_on(page) -> list[str]:
    boxes = page.locator('[data-testid="stException"]')
    return [await boxes.nth(i).inner_text() for i in range(await boxes.count())]


async def run(n: int, seconds: float, which: str, nice: int = BROWSER_NICE) -> dict:
    path, button = ACTIONS[which]
    log_path = Path(tempfile.mkdtemp(prefix="nnviz-load-")) / "server.log"
    proc, url = start_server(log_path)
    result: dict = {"sessions": n, "seconds": seconds, "page": path, "action": button, "browser_nice": nice}
    try:
        sessions = [Session(i) for i in range(n)]
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=LOAD_CHROMIUM_ARGS)
            nice_task = asyncio.create_task(keep_browser_below_server(proc.pid, nice)) if nice else None
            # Warm the server (imports, the shared cached data) with one page, then measure.
            warm = await browser.new_context()
            wp = await warm.new_page()
            await wp.goto(url + path, timeout=120_000)
            await wp.wait_for_selector(READY, state="attached", timeout=120_000)
            await warm.close()
            await asyncio.sleep(1)
            result["rss_before_mb"] = rss_mb(proc.pid)

            t0 = time.perf_counter()
            opened = await asyncio.gather(*(open_session(browser, url, path, s) for s in sessions))
            result["open_seconds"] = time.perf_counter() - t0
            result["rss_open_mb"] = rss_mb(proc.pid)
            pages = [p for _, p in opened]

            # Everybody presses the button at the same moment; each page then offers Pause.
            clicks = await asyncio.gather(*(p.get_by_role("button", name=button, exact=True).click(timeout=60_000)
                                            for p in pages), return_exceptions=True)
            for s, c in zip(sessions, clicks):
                if isinstance(c, Exception):
                    s.errors.append(f"could not press {button}: {str(c).splitlines()[0]}")
            started = await asyncio.gather(*(started_playing(p) for p in pages))
            for s, ok in zip(sessions, started):
                if not ok:
                    s.errors.append(f"{button} did not start training (no Pause button within 60 s)")
            starts = await asyncio.gather(*(epoch_of(p) for p in pages), return_exceptions=True)
            starts = [None if isinstance(e, Exception) else e for e in starts]
            browser_pids = [p for p in descendants(os.getpid()) if p != proc.pid]
            for s, e in zip(sessions, starts):
                s.epoch_start = e
                s.counting = True
            cpu0, bcpu0, t0 = cpu_seconds(proc.pid), cpu_of(browser_pids), time.perf_counter()
            peak = rss_mb(proc.pid)
            samples = []
            while (elapsed := time.perf_counter() - t0) < seconds:
                await asyncio.sleep(1.0)
                peak = max(peak, rss_mb(proc.pid))
                samples.append((round(elapsed, 1), round(rss_mb(proc.pid), 1), sum(s.frames for s in sessions)))
            elapsed = time.perf_counter() - t0
            result["server_cpu_s"] = cpu_seconds(proc.pid) - cpu0
            result["server_cpu_percent"] = 100 * result["server_cpu_s"] / elapsed
            result["browser_cpu_percent"] = 100 * (cpu_of(browser_pids) - bcpu0) / elapsed
            for s in sessions:
                s.counting = False
            for s, p in zip(sessions, pages):
                try:
                    s.epoch_end = await epoch_of(p)
                    s.errors += await exceptions_on(p)
                except Exception as e:  # a page too starved to answer is a failure, not a crash
                    s.errors.append(f"page did not answer: {str(e).splitlines()[0]}")
            result["rss_peak_mb"] = peak
            result["rss_end_mb"] = rss_mb(proc.pid)
            result["rss_samples"] = samples
            log_at_end = len(log_path.read_text())
            # Pause before closing: Streamlit 1.67's Starlette websocket handler logs a traceback
            # when a tab closes while the server is sending to it (a disconnect race, upstream).
            await asyncio.gather(*(p.get_by_role("button", name="Pause", exact=True).first.click(timeout=30_000)
                                   for p in pages), return_exceptions=True)
            await asyncio.sleep(1.5)
            for context, _ in opened:
                await context.close()
            if nice_task:
                nice_task.cancel()
            await browser.close()
    finally:
        stop(proc)
    full_log = log_path.read_text()
    server_log, after = full_log[:log_at_end], full_log[log_at_end:]
    tracebacks = server_log.count("Traceback")
    result["tracebacks_at_disconnect"] = after.count("Traceback")
    fps = [s.frames / elapsed for s in sessions]
    epochs = [(s.epoch_end or 0) - (s.epoch_start or 0) for s in sessions]
    result.update(
        elapsed_s=elapsed,
        errors=sum(len(s.errors) for s in sessions) + tracebacks,
        error_details=[f"session {s.index}: {e[:300]}" for s in sessions for e in s.errors]
        + ([server_log[server_log.index("Traceback"):][:3000]] if tracebacks else []),
        server_tracebacks=tracebacks,
        fps_per_session=[round(f, 2) for f in fps],
        fps_mean=statistics.mean(fps), fps_min=min(fps), fps_max=max(fps),
        epochs_per_session=[round(e, 1) for e in epochs],
        full_reruns=sum(s.reruns for s in sessions),
        interrupted_runs=sum(s.interrupted for s in sessions),
        started_runs=sum(s.started for s in sessions),
        per_session_mb=(result["rss_end_mb"] - result["rss_before_mb"]) / n,
    )
    frames = sum(s.frames for s in sessions)
    # Server CPU per frame -> how many sessions at 4 frames a second two cores could serve if the
    # browsers ran elsewhere (in a hall they run on the students' laptops).
    result["server_cpu_ms_per_frame"] = 1000 * result["server_cpu_s"] / frames if frames else float("nan")
    result["sessions_at_4fps_on_2_cores"] = (2000 / (4 * result["server_cpu_ms_per_frame"])
                                             if frames else float("nan"))
    return result


def report(r: dict) -> str:
    lines = [
        f"{r['sessions']} sessions pressed {r['action']} on {r['page']} at once, for {r['elapsed_s']:.0f} s",
        f"  errors: {r['errors']} (server tracebacks {r['server_tracebacks']}; "
        f"{r['tracebacks_at_disconnect']} more while the tabs closed)",
        f"  frames per second per session: mean {r['fps_mean']:.2f}, min {r['fps_min']:.2f}, "
        f"max {r['fps_max']:.2f}",
        f"  epochs trained per session: {statistics.mean(r['epochs_per_session']):.0f} on average "
        f"(min {min(r['epochs_per_session']):.0f}); runs cut short by the next timer tick: "
        f"{r['interrupted_runs']} (frames delivered: {sum(round(f * r['elapsed_s']) for f in r['fps_per_session'])}, "
        f"runs started: {r['started_runs']})",
        f"  server RSS: {r['rss_before_mb']:.0f} MB before, {r['rss_open_mb']:.0f} MB with the sessions open, "
        f"{r['rss_peak_mb']:.0f} MB peak, {r['rss_end_mb']:.0f} MB at the end",
        f"  per session: {r['per_session_mb']:.1f} MB; {r['sessions']} sessions opened in {r['open_seconds']:.1f} s",
        f"  CPU (200% = both cores): server {r['server_cpu_percent']:.0f}%, browser {r['browser_cpu_percent']:.0f}% "
        f"(nice {r['browser_nice']}); "
        f"server {r['server_cpu_ms_per_frame']:.0f} ms CPU per frame -> about "
        f"{r['sessions_at_4fps_on_2_cores']:.0f} sessions at 4 frames/s if the browsers ran elsewhere",
    ]
    lines += [f"  ! {e}" for e in r["error_details"][:10]]
    return "\n".join(lines)


def deep_bytes(obj, seen: set[int]) -> int:
    """Bytes held by obj and everything it references, each object once; code (modules, classes,
    functions) and whatever is already in `seen` (the shared, cached data) count as nothing."""
    import types

    import numpy as np
    if id(obj) in seen or isinstance(obj, (types.ModuleType, type, types.FunctionType,
                                           types.BuiltinFunctionType, types.MethodType)):
        return 0
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        own = sys.getsizeof(obj) - (obj.nbytes if obj.base is None else 0)
        return own + (obj.nbytes if obj.base is None else deep_bytes(obj.base, seen))
    size = sys.getsizeof(obj)
    if isinstance(obj, dict):
        size += sum(deep_bytes(k, seen) + deep_bytes(v, seen) for k, v in obj.items())
    elif isinstance(obj, (list, tuple, set, frozenset)):
        size += sum(deep_bytes(v, seen) for v in obj)
    elif isinstance(obj, types.GeneratorType) and obj.gi_frame is not None:
        size += sum(deep_bytes(v, seen) for v in obj.gi_frame.f_locals.values())
    if hasattr(obj, "__dict__"):
        size += deep_bytes(vars(obj), seen)
    for slot in getattr(type(obj), "__slots__", ()):
        if isinstance(slot, str) and hasattr(obj, slot):
            size += deep_bytes(getattr(obj, slot), seen)
    return size


def session_memory(frames: int = 40, pages=("playground", "mnist")) -> dict:
    """What one session holds (its st.session_state, deep, without the shared cached data), after
    playing `frames` frames on /playground and training on /mnist, measured in-process (AppTest)."""
    from streamlit.testing.v1 import AppTest

    from nnviz.ui.session import bundled_digits, default_model
    shared: set[int] = set()
    deep_bytes([bundled_digits(), default_model()], shared)  # read-only, one copy per server
    out = {}
    for name in pages:
        page, button = f"pages/{name}.py", ACTIONS[name][1]
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
        at.switch_page(page).run()
        next(b for b in at.button if b.label == button).click().run()
        for _ in range(frames):
            at.run()
        state = at._session_state.filtered_state
        out[page] = {"bytes": deep_bytes(state, set(shared)), "exception": [e.message for e in at.exception],
                     "largest": sorted(((deep_bytes(v, set(shared)), k) for k, v in state.items()), reverse=True)[:4]}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--page", choices=sorted(ACTIONS), default="playground")
    ap.add_argument("--browser-nice", type=int, default=BROWSER_NICE,
                    help="niceness of the browser's processes, so the server keeps the cores first (0: as started)")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    ap.add_argument("--session-memory", action="store_true",
                    help="instead: measure what one session holds, in-process (no browser)")
    ap.add_argument("--frames", type=int, default=40, help="with --session-memory: frames to play first")
    args = ap.parse_args()
    args.page_given = "--page" in sys.argv
    if args.session_memory:
        for page, m in session_memory(args.frames, [args.page] if args.page_given else list(ACTIONS)).items():
            print(f"{page} after {args.frames} frames: one session holds {m['bytes'] / 1e6:.2f} MB; largest keys "
                  + ", ".join(f"{k} {b / 1e6:.2f} MB" for b, k in m["largest"]) + (f"; ERROR {m['exception']}" if m["exception"] else ""))
        return 0
    r = asyncio.run(run(args.sessions, args.seconds, args.page, args.browser_nice))
    print(report(r))
    if args.json:
        args.json.write_text(json.dumps(r, indent=1))
    return 1 if r["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
