"""Neuroevolution against backprop: `python -m nnviz.cli.bench_evolution`.

1. One generation of 100 individuals of a 2-8-8-2 tanh network on 300 points (fitness in one
   batched forward pass, then selection and mutation, or the ES step): median milliseconds.
2. The race: forward passes (examples sent through a network to learn) and learning seconds until
   the test accuracy first reaches 90%, on moons and xor (the Playground's 300 points, noise 0.2,
   half held out), for backprop (SGD, lr 0.1, batch 10: the Playground's defaults), the GA and ES
   (population 100, the Playground's defaults), the same 2-8-8-2 network and the same initial
   weights; the median over seeds.

The engine runs on one BLAS thread, as in the app. Timings on a shared machine are noisy.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from nnviz.data.toy import make_dataset
from nnviz.engine.evolution import EvolutionConfig, make_evolution
from nnviz.engine.model import MLP
from nnviz.engine.training import Dataset, TrainConfig, Trainer

SIZES = (2, 8, 8, 2)
TARGET = 0.9


def _model(seed: int) -> MLP:
    return MLP.create(SIZES, "tanh", "softmax", "cross_entropy", "glorot", np.random.default_rng(seed))


def generation_ms(method: str, repeats: int = 200, population: int = 100, points: int = 300) -> dict:
    """One generation's work (no test-set bookkeeping), all points as training: milliseconds as the
    median and the fastest of `repeats` on the wall clock, and the median CPU time of this thread
    (on a machine shared with other jobs the CPU time is the steadier figure)."""
    data = make_dataset("moons", points, 0.2, 0.0, np.random.default_rng(0))
    evo = make_evolution(method, _model(0), data, EvolutionConfig(population=population), np.random.default_rng(0))
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.thread_time()
        with np.errstate(all="ignore"):
            evo._generation()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.thread_time() - c0)
    return {"median": 1e3 * statistics.median(wall), "fastest": 1e3 * min(wall), "cpu": 1e3 * statistics.median(cpu)}


def _learner(method: str, data: Dataset, seed: int):
    model = _model(seed)  # the same initial weights for every method
    rng = np.random.default_rng([seed, 1])
    if method == "backprop":
        return Trainer(model, data, TrainConfig("sgd", 0.1, 10), rng)
    return make_evolution(method, model, data, EvolutionConfig(), rng)


def until_target(method: str, dataset: str, seed: int, limit: int) -> tuple[int, float] | None:
    """(forward passes, seconds) when test accuracy first reaches TARGET, or None within `limit` steps."""
    data = make_dataset(dataset, 300, 0.2, 0.5, np.random.default_rng(seed))
    for stats in _learner(method, data, seed).epochs(limit):
        if stats.test_acc >= TARGET:
            return stats.forward_passes, stats.total_seconds
    return None


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m nnviz.cli.bench_evolution", description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=5, help="runs per method and dataset; default 5")
    p.add_argument("--limit", type=int, default=1000, help="epochs or generations at most; default 1000")
    args = p.parse_args(argv)
    from nnviz.engine.threads import cap_blas_threads
    cap_blas_threads(1)
    for method in ("ga", "es"):
        ms = generation_ms(method)
        print(f"one {method.upper()} generation, 100 x 2-8-8-2 on 300 points: {ms['median']:.2f} ms median, "
              f"{ms['fastest']:.2f} ms fastest, {ms['cpu']:.2f} ms CPU (median)")
    print(f"\nto {TARGET:.0%} test accuracy, median of {args.seeds} seeds (reached / runs):")
    print(f"{'dataset':8} {'method':9} {'forward passes':>15} {'seconds':>8} {'reached':>8}")
    for dataset in ("moons", "xor"):
        for method in ("backprop", "ga", "es"):
            runs = [until_target(method, dataset, s, args.limit) for s in range(args.seeds)]
            hits = [r for r in runs if r is not None]
            if hits:
                fp = statistics.median(h[0] for h in hits)
                sec = statistics.median(h[1] for h in hits)
                print(f"{dataset:8} {method:9} {fp:>15,.0f} {sec:>8.3f} {len(hits):>5}/{len(runs)}")
            else:
                print(f"{dataset:8} {method:9} {'-':>15} {'-':>8} {0:>5}/{len(runs)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
