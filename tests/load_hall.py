"""A lecture hall without browsers: simulated students against `nnviz serve` (a benchmark, not a test).

    .venv/bin/python tests/load_hall.py --workers 1,2 --sessions 10,20,40 --seconds 40 [--page playground|mnist]
    .venv/bin/python tests/load_hall.py --direct --sessions 10     # one plain `streamlit run`, no proxy

For each worker count it starts `python -m nnviz serve --workers W` (HAProxy in front, on a fresh
SQLite class database), and for each session count runs that many Locust users in this process
(tests/locust_hall.py: each speaks Streamlit's WebSocket protocol and takes frames as a browser
does). Students join over a few seconds, then everything is measured over `--seconds`:

* frames/s per session (live frames that drew their charts), mean and slowest;
* click latency (Pause, Play; sent -> the run's script_finished), p50 and p95; frame latency;
* on /class (`--page class`): each student trains on /mnist, joins a class and submits its
  network; how many were rated, and the wait from submission to the rating on screen;
* errors: failed requests, exceptions on a page, lost sockets, failed /media requests, and
  tracebacks in the server's log;
* each worker's CPU (100% = one core) and memory (RSS), the load generator's own CPU, and the
  server's CPU per frame (the figure to compare with tests/load_sessions.py, whose students are
  real Chromium tabs).

A load passes when every session gets at least --min-fps frames/s with 0 errors and the p95 click
latency is under --max-p95 seconds; the report says the largest passing load per worker count.
"""
from __future__ import annotations

import locust_hall  # noqa: F401  (first: Locust's gevent patches the standard library on import)

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import gevent
from locust.env import Environment

from locust_hall import STUDENTS, USERS
from load_sessions import cpu_seconds, rss_mb
from serving import ROOT, free_port, healthy, start_streamlit, stop


def streamlit_pids(root: int) -> list[int]:
    """The Streamlit workers below `root` (the serve process), oldest first."""
    out = []
    for cmd in sorted(Path("/proc").glob("[0-9]*/cmdline"), key=lambda p: int(p.parent.name)):
        try:
            args = cmd.read_bytes().split(b"\0")
            ppid = int(Path(cmd.parent, "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if b"streamlit" in args and ppid == root:
            out.append(int(cmd.parent.name))
    return out


class Hall:
    """`nnviz serve --workers W` (or one plain `streamlit run` with --direct) on loopback."""

    def __init__(self, workers: int, direct: bool, log_dir: Path):
        self.log = open(log_dir / f"server-{'direct' if direct else workers}.log", "w")
        self.db = db = f"sqlite:///{log_dir}/class-{workers}.db"
        if direct:
            self.proc, self.url = start_streamlit(self.log, extra_env={"NNVIZ_DATABASE_URL": db})
            self.workers = [self.proc.pid]
            return
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen([sys.executable, "-m", "nnviz", "serve", "--workers", str(workers),
                                      "--port", str(port)], cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
                                     env={**os.environ, "NNVIZ_DATABASE_URL": db, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"nnviz serve exited ({self.proc.returncode}):\n{Path(self.log.name).read_text()}")
            self.workers = streamlit_pids(self.proc.pid)
            if len(self.workers) == workers and healthy(self.url):
                return
            time.sleep(0.3)
        self.close()
        raise SystemExit("nnviz serve did not become healthy in 120 s")

    def create_class(self) -> str:
        """A class with round 1 open, in the workers' database (the CLI, as a lecturer would); its code."""
        out = subprocess.run([sys.executable, "-m", "nnviz", "class", "create", "--open", "--limit", "50", "--json"],
                             cwd=ROOT, env={**os.environ, "NNVIZ_DATABASE_URL": self.db}, capture_output=True,
                             text=True, check=True)
        return json.loads(out.stdout)["code"]

    def tracebacks(self) -> int:
        return Path(self.log.name).read_text().count("Traceback")

    def close(self) -> None:
        if self.workers == [self.proc.pid]:
            stop(self.proc)
        else:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def stage(hall: Hall, page: str, n: int, seconds: float, join_seconds: float) -> dict:
    """n students join over join_seconds, then are measured for `seconds`."""
    STUDENTS.clear()
    env = Environment(user_classes=[USERS[page]], host=hall.url)
    latencies: dict[str, list[float]] = {"click": [], "frame": [], "rated": []}
    failures: list[str] = []
    window = [float("inf")]

    def on_request(request_type, name, response_time, response_length, exception, **_kw):
        if time.monotonic() < window[0]:
            return
        if exception is not None:
            failures.append(f"{name}: {exception}")
        elif name.startswith(("click", "frame", "rated")):
            latencies[name.split()[0]].append(response_time / 1000)

    env.events.request.add_listener(on_request)
    runner = env.create_local_runner()
    tb0 = hall.tracebacks()
    runner.start(n, spawn_rate=max(1.0, n / join_seconds))
    if page != "class":  # a class student's whole visit is measured: train, join, submit, rated
        gevent.sleep(join_seconds + 3)  # everybody in, and past their first click
    before = {pid: cpu_seconds(pid) for pid in hall.workers}
    me0, t0 = time.process_time(), time.monotonic()
    window[0] = t0
    gevent.sleep(seconds)
    t1 = time.monotonic()
    after = {pid: cpu_seconds(pid) for pid in hall.workers}
    rss = {pid: rss_mb(pid) for pid in hall.workers}
    me1 = time.process_time()
    runner.stop()
    runner.quit()
    fps = [s.frames_between(t0, t1) / (t1 - t0) for s in STUDENTS]
    frames = sum(s.frames_between(t0, t1) for s in STUDENTS)
    cpu = {pid: after[pid] - before[pid] for pid in hall.workers}
    cookies = [s.cookie for s in STUDENTS]
    errors = failures + [f"server log: {hall.tracebacks() - tb0} traceback(s)"] * (hall.tracebacks() > tb0)
    return {
        "workers": len(hall.workers), "sessions": n, "seconds": t1 - t0, "page": page,
        "fps_mean": statistics.mean(fps) if fps else 0.0, "fps_min": min(fps) if fps else 0.0,
        "click_p50_s": percentile(latencies["click"], 0.5), "click_p95_s": percentile(latencies["click"], 0.95),
        "clicks": len(latencies["click"]),
        "frame_p50_s": percentile(latencies["frame"], 0.5), "frame_p95_s": percentile(latencies["frame"], 0.95),
        "rated": len(latencies["rated"]), "rated_p50_s": percentile(latencies["rated"], 0.5),
        "rated_p95_s": percentile(latencies["rated"], 0.95), "rated_max_s": max(latencies["rated"], default=float("nan")),
        "errors": len(errors), "error_details": errors[:10],
        "worker_cpu_percent": [round(100 * c / (t1 - t0)) for c in cpu.values()],
        "worker_rss_mb": [round(rss[pid]) for pid in hall.workers],
        "server_cpu_ms_per_frame": 1000 * sum(cpu.values()) / frames if frames else float("nan"),
        "generator_cpu_percent": round(100 * (me1 - me0) / (t1 - t0)),
        "sessions_per_cookie": {c: cookies.count(c) for c in sorted(set(cookies), key=str)},
    }


def passes(r: dict, min_fps: float, max_p95: float) -> bool:
    if r["page"] == "class":  # every student's network rated, none lost
        return r["errors"] == 0 and r["rated"] == r["sessions"] and r["click_p95_s"] < max_p95
    return r["errors"] == 0 and r["fps_min"] >= min_fps and r["click_p95_s"] < max_p95


def report(r: dict, ok: bool) -> str:
    return (f"{r['workers']} worker(s), {r['sessions']:>3} sessions on {r['page']}, {r['seconds']:.0f} s: "
            f"frames/s per session {r['fps_mean']:.2f} (slowest {r['fps_min']:.2f}); "
            f"click p50 {1000 * r['click_p50_s']:.0f} ms, p95 {1000 * r['click_p95_s']:.0f} ms ({r['clicks']} clicks); "
            f"frame p50 {1000 * r['frame_p50_s']:.0f} ms; "
            + (f"rated {r['rated']} of {r['sessions']}, submission to rating p50 {r['rated_p50_s']:.1f} s, "
               f"p95 {r['rated_p95_s']:.1f} s; " if r["page"] == "class" else "")
            + f"errors {r['errors']}; "
            f"worker CPU {'/'.join(f'{c}%' for c in r['worker_cpu_percent'])}, "
            f"RSS {'/'.join(f'{m} MB' for m in r['worker_rss_mb'])}; "
            f"{r['server_cpu_ms_per_frame']:.0f} ms server CPU per frame; generator CPU {r['generator_cpu_percent']}%"
            f"{'' if ok else '  (below the bar)'}"
            + "".join(f"\n    ! {e[:200]}" for e in r["error_details"][:5]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", default="1,2", help="worker counts to try, e.g. 1,2")
    ap.add_argument("--sessions", default="10,20,40", help="session counts to try at each worker count")
    ap.add_argument("--seconds", type=float, default=40, help="measured seconds per load")
    ap.add_argument("--join-seconds", type=float, default=8, help="students join over this many seconds")
    ap.add_argument("--page", choices=sorted(USERS), default="playground")
    ap.add_argument("--click-every", type=float, default=10.0,
                    help="seconds between a student's Pause + Play (0: never, as the browsers of tests/load_sessions.py)")
    ap.add_argument("--frame-seconds", type=float, default=0.0,
                    help="at least this long between a student's ticks, like a slow browser (0: the page's own interval)")
    ap.add_argument("--direct", action="store_true", help="one plain `streamlit run`, no proxy (as tests/load_sessions.py)")
    ap.add_argument("--min-fps", type=float, default=2.0)
    ap.add_argument("--max-p95", type=float, default=1.0, help="seconds")
    ap.add_argument("--json", type=Path, help="also write every figure to this file")
    args = ap.parse_args()
    USERS[args.page].click_every = args.click_every
    USERS[args.page].frame_seconds = args.frame_seconds
    log_dir = Path(tempfile.mkdtemp(prefix="nnviz-hall-"))
    results, best = [], {}
    for w in [1] if args.direct else [int(x) for x in args.workers.split(",")]:
        hall = Hall(w, args.direct, log_dir)
        try:
            if args.page == "class":
                os.environ["NNVIZ_LOAD_CLASS_CODE"] = hall.create_class()
            for n in [int(x) for x in args.sessions.split(",")]:
                r = stage(hall, args.page, n, args.seconds, args.join_seconds)
                ok = passes(r, args.min_fps, args.max_p95)
                results.append(r)
                print(report(r, ok), flush=True)
                if ok:
                    best[w] = max(best.get(w, 0), n)
        finally:
            hall.close()
    bar = ("every network rated" if args.page == "class" else f">= {args.min_fps:g} frames/s each")
    for w, n in sorted(best.items()):
        print(f"{w} worker(s): {n} sessions with {bar}, 0 errors, p95 click < {args.max_p95:g} s")
    if len(best) > 1 and min(best) in best:
        lo, hi = min(best), max(best)
        print(f"{hi} workers / {lo}: {best[hi] / best[lo]:.2f}x the sessions")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    print(f"logs: {log_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
