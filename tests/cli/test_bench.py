"""The benchmark's code path in its tiny --quick mode (no speed is asserted: this is not a timed test),
its per-example baseline against the engine's maths, and the BLAS thread policy."""
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nnviz.cli import bench
from nnviz.data.mnist import load_bundled
from nnviz.engine import threads
from nnviz.engine.model import MLP, Architecture
from nnviz.engine.training import Dataset, TrainConfig, Trainer

ROOT = Path(__file__).resolve().parents[2]
TRAIN_KEYS = {"metric", "impl", "sizes", "batch_size", "dtype", "samples_per_s", "threads", "runs"}


def _positive(v) -> bool:
    return isinstance(v, float) and math.isfinite(v) and v > 0


def _json_lines(capsys, *argv) -> list[dict]:
    assert bench.main(["--quick", "--json", *argv]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


@pytest.mark.timeout(120)
def test_quick_json_lines(capsys):
    records = _json_lines(capsys, "--no-torch", "--threads", "1", "--repeats", "2")
    env, targets = records[0], records[-1]
    assert env["metric"] == "environment"
    assert env["blas_threads"] is None or env["blas_threads"] >= 1
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "numpy", "torch", "blas"):
        assert key in env
    assert env["torch"] is None and env["quick"] is True and env["repeats"] == 2

    train = [r for r in records if r["metric"] == "train_samples_per_s"]
    got = {(r["impl"], tuple(r["sizes"]), r["batch_size"]) for r in train}
    assert got == {("nnviz", (784, 100, 10), 10), ("nnviz", (784, 100, 10), 32), ("nnviz", (784, 100, 10), 128),
                   ("nnviz", (784, 30, 10), 10), ("loop", (784, 30, 10), 10)}
    for r in train:
        assert TRAIN_KEYS <= r.keys()
        assert len(r["runs"]) == 2 and all(v > 0 for v in r["runs"])
        assert _positive(r["samples_per_s"]) and r["samples_per_s"] == pytest.approx(np.median(r["runs"]), rel=1e-3)
        assert r["best_samples_per_s"] == pytest.approx(max(r["runs"]), rel=1e-3)
        assert r["threads"] == 1 and r["threads_used"] in (1, None)  # --threads 1: one budget, one thread
        assert r["dtype"] == ("float64" if r["impl"] == "loop" else "float32")

    latencies = {r["metric"]: r for r in records if r["metric"].startswith(("latency", "grid"))}
    assert set(latencies) == {"latency_one_digit", "grid_200x200", "grid_200x200_all_layers"}
    for r in latencies.values():
        assert _positive(r["seconds"]) and 0 < r["best_seconds"] <= r["seconds"]
        assert r["samples_per_s"] == pytest.approx(r["batch_size"] / r["seconds"])
    assert latencies["latency_one_digit"]["batch_size"] == 1
    assert latencies["grid_200x200"]["batch_size"] == 40_000

    assert targets["metric"] == "targets"
    assert targets["host_steal"] is None or 0 <= targets["host_steal"] <= 1
    checks = {c["name"]: c for c in targets["checks"]}
    assert set(checks) == {"torch_b32_t1", "torch_b128_t1", "torch_b32_tn", "torch_b128_tn", "more_threads",
                           "epoch_60k_s", "loop", "digit_us", "grid_ms"}
    for name in ("torch_b32_t1", "torch_b128_tn", "more_threads"):  # no torch asked for; one thread only
        assert checks[name]["value"] is None and checks[name]["met"] is None
    epoch = next(r for r in records if r["metric"] == "epoch_seconds")
    assert epoch["samples"] == 60_000 and epoch["measured_samples"] == 2048 and epoch["batch_size"] == 32
    assert checks["epoch_60k_s"]["value"] == epoch["seconds"]
    for name in ("loop", "digit_us", "grid_ms", "epoch_60k_s"):
        assert _positive(checks[name]["value"]) and isinstance(checks[name]["met"], bool)
    loop_ratio = train[-2]["samples_per_s"] / train[-1]["samples_per_s"]
    assert checks["loop"]["value"] == pytest.approx(loop_ratio)


@pytest.mark.timeout(120)
def test_cli_prints_a_table():
    """`python -m nnviz bench` goes through the CLI dispatcher to this module; with several BLAS threads,
    the race runs on one thread and on all of them."""
    out = subprocess.run([sys.executable, "-m", "nnviz", "bench", "--quick", "--no-torch"],
                         cwd=ROOT, capture_output=True, text=True, timeout=110)
    assert out.returncode == 0, out.stderr
    assert "OPENBLAS_CORETYPE=" in out.stdout and "targets met:" in out.stdout
    assert "200x200 grid" in out.stdout
    found = re.search(r", (\d+|None) threads;", out.stdout)  # BLAS threads in force in that process
    n = int(found.group(1)) if found.group(1) != "None" else 1
    for budget in sorted({1, n}):  # a table per thread budget, nnviz and torch side by side
        head = f"samples/s (median), {budget} thread{'s' if budget > 1 else ''} allowed:"
        assert head in out.stdout
        table = out.stdout.split(head)[1].split("\n\n")[0].splitlines()
        assert [row.split()[0] for row in table[2:5]] == ["b10", "b32", "b128"]
    assert ("nnviz on 2 threads / on 1: b10" in out.stdout) == (n == 2)
    assert "one 60,000-digit epoch" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "nnviz", "bench", "--repeats", "0"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


@pytest.mark.timeout(180)
def test_torch_runs_the_same_workload_when_installed(capsys):
    pytest.importorskip("torch")
    records = _json_lines(capsys, "--threads", "1")
    for batch in bench.MAIN_BATCHES:
        nn = bench._find(records, metric="train_samples_per_s", impl="nnviz", batch_size=batch, sizes=[784, 100, 10])
        pt = bench._find(records, metric="train_samples_per_s", impl="torch", batch_size=batch, sizes=[784, 100, 10])
        assert pt is not None and _positive(pt["samples_per_s"])
        assert pt["threads"] == nn["threads"] and pt["dtype"] == "float32"
    checks = {c["name"]: c for c in records[-1]["checks"]}
    for name in ("torch_b32_t1", "torch_b128_t1", "torch_b32_tn", "torch_b128_tn"):  # one budget: t1 is tn
        assert _positive(checks[name]["value"])


def test_per_example_loop_computes_the_engines_step():
    """The baseline does the same maths as nnviz (so the speed comparison is fair): one mini-batch
    step of the per-example loop equals one vectorised SGD step of the engine, in float64."""
    rng = np.random.default_rng(3)
    net = bench.PerExampleNetwork([6, 5, 3], rng)
    model = MLP(Architecture((6, 5, 3), "sigmoid", "sigmoid", "quadratic"),
                [w.T.copy() for w in net.weights], [b.ravel().copy() for b in net.biases])
    x = rng.standard_normal((10, 6))
    labels = rng.integers(0, 3, 10)
    eye = np.eye(3)
    net.update_mini_batch([(xi.reshape(-1, 1), eye[k].reshape(-1, 1)) for xi, k in zip(x, labels)], eta=3.0)
    g = model.gradients(x, model.targets(labels))
    for w, gw, w_loop in zip(model.weights, g.weights, net.weights):
        np.testing.assert_allclose(w - 3.0 * gw, w_loop.T, rtol=1e-10, atol=1e-12)
    for b, gb, b_loop in zip(model.biases, g.biases, net.biases):
        np.testing.assert_allclose(b - 3.0 * gb, b_loop.ravel(), rtol=1e-10, atol=1e-12)


# ----- BLAS threads ------------------------------------------------------------------------------
needs_threads = pytest.mark.skipif(not (threads.blas_threads() or 0) > 1,
                                   reason="BLAS runs on one thread here: nothing to limit")


@needs_threads
def test_blas_limit_applies_and_restores():
    before = threads.blas_threads()
    limit = threads.BlasLimit(1)
    with limit:
        assert threads.blas_threads() == 1
        limit.restore()
        assert threads.blas_threads() == before
        limit.apply()
        limit.apply()  # idempotent
        assert threads.blas_threads() == 1
    assert threads.blas_threads() == before
    with threads.BlasLimit(None):
        assert threads.blas_threads() == before


@needs_threads
def test_trainer_uses_one_thread_for_small_batches_measures_larger_ones_and_releases_while_paused():
    data = load_bundled()
    data = Dataset(data.x_train[:400], data.y_train[:400], data.x_test[:50], data.y_test[:50], 10)
    before = threads.blas_threads()
    seen = []

    def spy(xb, yb):  # the Trainer's augment hook runs inside the training loop
        seen.append(threads.blas_threads())
        return xb

    block = threads.ThreadChoice.BLOCK
    for batch, expected in ((10, [1] * 40), (50, ([1] * block + [before] * block) * threads.ThreadChoice.ROUNDS + [before] * 4)):
        seen.clear()
        trainer = Trainer(MLP.create([784, 20, 10], rng=np.random.default_rng(0)), data,
                          TrainConfig(batch_size=batch), np.random.default_rng(0), augment=spy)
        for stats in trainer.epochs(-(-len(expected) * batch // 400), every_batches=2):
            assert threads.blas_threads() == before  # restored while the caller holds the generator
        assert seen[:len(expected) - 4] == expected[:-4]  # blocks of one and of all threads, in turn
        assert stats.end_of_epoch and threads.blas_threads() == before
    assert trainer.blas_threads() in (1, before) and set(seen[-4:]) == {trainer.blas_threads()}


def test_thread_choice_takes_the_faster_limit_and_skips_each_blocks_first_batch():
    choice = threads.ThreadChoice(threads.SMALL_BATCH)
    if not choice.measuring:  # one BLAS thread here: nothing to choose
        assert choice.limit() is None and threads.ThreadChoice(1).limit() == 1
        return
    assert threads.ThreadChoice(threads.SMALL_BATCH - 1).limit() == 1  # below SMALL_BATCH: never measured
    limits = []
    while choice.measuring:
        limits.append(choice.limit())
        # Two threads are faster, except on the first batch of each of their blocks (still spinning up).
        first = len(limits) == 1 or limits[-2] != limits[-1]
        choice.record(1.0 if limits[-1] == 1 else (5.0 if first else 0.5))
    assert limits == ([1] * choice.BLOCK + [None] * choice.BLOCK) * choice.ROUNDS
    assert choice.limit() is None and len(choice.times[None]) == (choice.BLOCK - 1) * choice.ROUNDS
    slow = threads.ThreadChoice(threads.SMALL_BATCH)
    while slow.measuring:
        slow.record(1.0 if slow.limit() == 1 else 1.2)
    assert slow.limit() == 1


def test_training_threads_policy():
    assert threads.training_threads(1) == 1 and threads.training_threads(threads.SMALL_BATCH - 1) == 1
    assert threads.training_threads(threads.SMALL_BATCH) is None and threads.training_threads(1000) is None


def test_steal_time_is_read_from_proc_stat(tmp_path):
    stat = tmp_path / "stat"
    stat.write_text("cpu  100 0 50 800 10 0 5 35 0 0\ncpu0 50 0 25 400 5 0 2 17 0 0\n")
    before = bench._cpu_ticks(str(stat))
    assert before == (1000, 35)
    stat.write_text("cpu  200 0 60 1500 10 0 5 225 0 0\n")
    assert bench._steal_share(before, bench._cpu_ticks(str(stat))) == pytest.approx(190 / 1000)
    assert bench._steal_share(before, before) is None and bench._steal_share(None, before) is None
    stat.write_text("nothing here\n")
    assert bench._cpu_ticks(str(stat)) is None and bench._cpu_ticks(str(tmp_path / "missing")) is None
