"""Benchmark of /learn's loss landscape: how long one 51 x 51 picture of a Playground network takes.

    python -m nnviz.cli.bench_landscape [--repeat 5]

For a few Playground networks (the default 2-4-2-2 on 150 training points up to six layers of 32
on 1,000), trains 20 epochs and times landscape() with the random directions and with PCA, the
median of --repeat runs, on one BLAS thread like a server session. The page's target: under 2 s.
"""
from __future__ import annotations

import argparse
import statistics
import time

from nnviz.engine.threads import cap_blas_threads
from nnviz.lab.landscape import landscape
from nnviz.lab.playground import PlaygroundRun, PlaygroundState

CASES = [("default 2-4-2-2, 150 points", PlaygroundState()),
         ("2-8-8-2, 500 points", PlaygroundState(hidden=(8, 8), n_points=1000)),
         ("2-16-16-16-2, 1,000 points", PlaygroundState(hidden=(16, 16, 16), n_points=1000, test_ratio=0.0)),
         ("2-32x6-2, 1,000 points", PlaygroundState(hidden=(32,) * 6, n_points=1000, test_ratio=0.0))]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m nnviz.cli.bench_landscape", description=__doc__.split("\n")[0])
    p.add_argument("--repeat", type=int, default=5, help="runs per case (the median is printed); default 5")
    args = p.parse_args(argv)
    cap_blas_threads(1)
    print(f"{'network':<30} {'points used':>12} {'random (s)':>11} {'pca (s)':>9}")
    for name, state in CASES:
        run = PlaygroundRun(state)
        run.step(20)
        epochs = run.snapshots.epochs
        path = [run.snapshots.model_at(e, run.model).params() for e in epochs]
        times, used = {}, 0
        for kind in ("random", "pca"):
            samples = []
            for _ in range(max(args.repeat, 1)):
                t0 = time.perf_counter()
                land = landscape(run.model, run.data.x_train, run.data.y_train, path, epochs, kind, 51)
                samples.append(time.perf_counter() - t0)
            times[kind], used = statistics.median(samples), land.n_points
        print(f"{name:<30} {used:>5} of {len(run.data.y_train):>4} {times['random']:>11.2f} {times['pca']:>9.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
