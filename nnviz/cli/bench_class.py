"""Benchmark: how fast a class's submissions are rated, and what rating costs everybody else.

    python -m nnviz.cli.bench_class [--submissions 30] [--workers 1 2] [--url URL]

On a fresh SQLite file (or --url, e.g. a PostgreSQL database), 30 students join one class and
submit a [784, 100, 10] network each at the same moment (the default model with a different small
perturbation each, so every file differs). Rating workers, threads of this process like the one
a server runs, rate the queue; the script prints the seconds until the last is rated. Meanwhile
a "click" thread does what one Playground Step costs (one epoch of a 2-4-2-2 network on 300
points and the 100x100 boundary grid) every 100 ms and records how long each took, against the
same clicks with no rating running: the latency other students see while a hall submits.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time

import numpy as np


def _click_cost():
    """One Playground Step's work: returns a function that does it once."""
    from nnviz.data.toy import moons
    from nnviz.engine.model import MLP
    from nnviz.engine.training import Dataset, TrainConfig, Trainer

    rng = np.random.default_rng(0)
    x, y = moons(300, 0.2, rng)
    data = Dataset(x[:150], y[:150], x[150:], y[150:], 2, "moons")
    model = MLP.create((2, 4, 2, 2), "tanh", "softmax", "cross_entropy", "glorot", rng)
    trainer = Trainer(model, data, TrainConfig("sgd", 0.03, 10), rng)
    grid = np.stack(np.meshgrid(np.linspace(-1.8, 1.8, 100), np.linspace(-1.8, 1.8, 100)), -1).reshape(-1, 2)
    epochs = trainer.epochs(10**9)

    def click():
        next(epochs)
        model.predict_proba(grid.astype(model.dtype))
    return click


def _clicks(stop: threading.Event, out: list[float]) -> None:
    click = _click_cost()
    while not stop.is_set():
        t = time.perf_counter()
        click()
        out.append(time.perf_counter() - t)
        stop.wait(0.1)


def _latency(values: list[float]) -> str:
    if not values:
        return "no clicks"
    v = sorted(values)
    return (f"p50 {1000 * statistics.median(v):.1f} ms, p95 {1000 * v[int(0.95 * (len(v) - 1))]:.1f} ms, "
            f"max {1000 * v[-1]:.1f} ms ({len(v)} clicks)")


def _submissions(n: int) -> list[bytes]:
    from nnviz.engine.model_files import model_to_bytes
    from nnviz.lab.pretrained import train_default_model

    base = train_default_model().model
    rng = np.random.default_rng(1)
    out = []
    for _ in range(n):
        m = base.copy()
        for w in m.weights:
            w += rng.normal(0, 0.01, w.shape).astype(w.dtype)
        out.append(model_to_bytes(m))
    return out


def run_once(url: str, files: list[bytes], workers: int) -> dict:
    from nnviz.classroom.store import ClassStore
    from nnviz.classroom.worker import RatingWorker

    store = ClassStore(url)
    new = store.create_class(eps=0.1)
    store.update_class(new.code, new.teacher_key, submit_open=True)
    tokens = [store.join(new.code, f"student {i}").token for i in range(len(files))]
    stop, clicks = threading.Event(), []
    clicker = threading.Thread(target=_clicks, args=(stop, clicks), daemon=True)
    clicker.start()
    t0 = time.perf_counter()
    barrier = threading.Barrier(len(files))

    def submit(token, data):
        barrier.wait()
        store.submit_model(token, data)
    threads = [threading.Thread(target=submit, args=a) for a in zip(tokens, files)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    submitted = time.perf_counter() - t0
    pool = [RatingWorker(store, poll_s=0.05).start() for _ in range(workers)]
    while store.pending_count(new.code):
        time.sleep(0.05)
    rated = time.perf_counter() - t0
    for w in pool:
        w.stop()
    stop.set()
    clicker.join()
    board = store.leaderboard(new.code)
    store.dispose()
    return dict(submitted=submitted, rated=rated, clicks=clicks, n=len(board))


def main(argv: list[str] | None = None) -> int:
    from nnviz.classroom.evaluate import rate
    from nnviz.engine.threads import cap_blas_threads
    from nnviz.lab.pretrained import train_default_model

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--submissions", type=int, default=30)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--url", default=None, help="a database URL (default: a fresh SQLite file per run)")
    args = p.parse_args(argv)
    cap_blas_threads(1)  # as in the server: one BLAS thread a session, one a worker

    model = train_default_model().model
    times = []
    for _ in range(3):
        t = time.perf_counter()
        r = rate(model, 0.1, seed=0)
        times.append(time.perf_counter() - t)
    print(f"one [784, 100, 10] rating at eps 0.1: {statistics.median(times):.2f} s median of 3 "
          f"(clean {r.clean_acc:.1%} on {r.n_clean}, robust {r.robust_acc:.1%} on {r.n_robust})")

    idle: list[float] = []
    stop = threading.Event()
    t = threading.Thread(target=_clicks, args=(stop, idle), daemon=True)
    t.start()
    time.sleep(3)
    stop.set()
    t.join()
    print(f"a Playground click with nothing rated: {_latency(idle)}")

    files = _submissions(args.submissions)
    for workers in args.workers:
        with tempfile.TemporaryDirectory() as tmp:
            url = args.url or f"sqlite:///{tmp}/bench.db"
            got = run_once(url, files, workers)
        print(f"{args.submissions} submissions at once, {workers} rating worker(s): submitted in "
              f"{got['submitted']:.2f} s, all {got['n']} rated after {got['rated']:.1f} s; "
              f"clicks meanwhile: {_latency(got['clicks'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
