"""`python -m nnviz bench [--json] [--quick]`: how fast the engine trains and predicts.

A benchmark, not a test. On the bundled digits (8,000 training images) it measures:
- training samples/s of nnviz at [784, 100, 10] relu + softmax cross-entropy, float32, batch 10,
  32 and 128, beside PyTorch (CPU) doing exactly the same in the same run when `torch` is
  importable: nn.Linear + F.cross_entropy + optim.SGD, same data, same thread count, and on both
  sides the mini-batches gathered from the shuffled training set inside the timed epoch;
- nnviz beside a per-example loop like Nielsen's network.py (the seed) at [784, 30, 10] sigmoid +
  quadratic cost, batch 10, eta 3.0;
- the latency of one digit through [784, 100, 10] (predict_proba of a (1, 784) input), and the time
  to evaluate a 2-8-8-2 tanh network over a 200x200 grid.

Every training figure is the median over --repeats timed epochs (after one warm-up epoch, in which
the Trainer also measures its BLAS thread count), the contenders' epochs interleaved so that a change
in machine load hits both; latencies are the median of many calls (the best is reported too).
Threads: the [784, 100, 10] race runs once per thread budget, 1 and all the BLAS threads in force
(--threads N: 1 and N), PyTorch getting the same budget (torch.set_num_threads) and nnviz using up to
it as the Trainer chooses (one thread below batch 32, else whichever it measured faster); a table
per budget, and nnviz's figure on the larger budget over its figure on one. Also one epoch of
60,000 digits (the bundled 8,000 tiled: full MNIST's size) at batch 32 on the larger budget.
The latencies run on one BLAS thread, as the app does (nnviz/engine/threads.py).
For figures unslowed by this machine's OpenBLAS workaround, run it as
`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m nnviz bench` (never in tests or CI).
The BLAS library, its threads and OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are recorded, never changed.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import time
from contextlib import contextmanager

import numpy as np

from nnviz.data.mnist import load_bundled
from nnviz.data.toy import EXTENT
from nnviz.engine import threads
from nnviz.engine.model import MLP
from nnviz.engine.training import Dataset, TrainConfig, Trainer

MAIN = dict(sizes=[784, 100, 10], activation="relu", output="softmax", loss="cross_entropy", init="he", lr=0.1)
SEED = dict(sizes=[784, 30, 10], activation="sigmoid", output="sigmoid", loss="quadratic", init="normal", lr=3.0)
MAIN_BATCHES = (10, 32, 128)
GRID = 200  # points per side
GRID_SIZES = [2, 8, 8, 2]

STEAL_WARN = 0.02  # the share of CPU time taken by a virtual machine's host from which the table warns
FULL_EPOCH = 60_000  # full MNIST's training set, tiled from the bundled digits
# (name, what is compared, target, how): the targets, measured there on a quiet machine.
TARGETS = [
    ("torch_b32_t1", "nnviz / torch samples/s, batch 32, 1 thread", 2.0, ">="),
    ("torch_b128_t1", "nnviz / torch samples/s, batch 128, 1 thread", 1.4, ">="),
    ("torch_b32_tn", "nnviz / torch samples/s, batch 32, all threads", 2.0, ">="),
    ("torch_b128_tn", "nnviz / torch samples/s, batch 128, all threads", 1.4, ">="),
    ("more_threads", "nnviz on all threads / on 1, worst batch size (0.95: within noise)", 0.95, ">="),
    ("epoch_60k_s", f"one {FULL_EPOCH:,}-digit epoch at batch 32, seconds", 0.4, "<="),
    ("loop", "nnviz / per-example loop samples/s", 6.0, ">="),
    ("digit_us", "one digit, microseconds", 10.0, "<"),
    ("grid_ms", f"{GRID}x{GRID} grid, milliseconds", 1.0, "<"),
]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError(f"{text} must be between 1 and 1000")
    return value


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="one JSON object per line instead of a table")
    p.add_argument("--quick", action="store_true",
                   help="a tiny run (256 digits, 1 repeat) that exercises every path; its figures mean little")
    p.add_argument("--repeats", type=_positive_int, default=None, metavar="N",
                   help="timed epochs per training figure, median reported; default 5 (1 with --quick)")
    p.add_argument("--threads", type=_positive_int, default=None, metavar="N",
                   help="race on 1 and on N BLAS and PyTorch threads (default: 1 and all BLAS threads in force); "
                        "--threads 1 races on one thread only")
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch out even when it is installed")


# ----- timing helpers ------------------------------------------------------------------------
@contextmanager
def _no_gc():
    """Like timeit: no cyclic garbage collection inside a timed stretch."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _call_times(fn, calls: int) -> np.ndarray:
    """Seconds of each of `calls` calls of fn() (after a few untimed warm-up calls)."""
    for _ in range(min(calls, 20)):
        fn()
    times = np.empty(calls)
    with _no_gc():
        for i in range(calls):
            t0 = time.perf_counter()
            fn()
            times[i] = time.perf_counter() - t0
    return times


# ----- the contenders --------------------------------------------------------------------------
def _nnviz_epochs(data: Dataset, work: dict, batch: int, seed: int):
    """A function that trains one epoch with nnviz's Trainer and returns its samples/s.

    The Trainer's own clock (EpochStats.seconds) covers shuffled mini-batch gathering, gradients
    and the optimiser step, not the per-epoch evaluation.
    """
    rng = np.random.default_rng(seed)
    model = MLP.create(work["sizes"], work["activation"], work["output"], work["loss"], work["init"], rng)
    trainer = Trainer(model, data, TrainConfig("sgd", work["lr"], batch), rng)

    def epoch() -> float:
        stats = trainer.train_epoch()
        return stats.samples_seen / stats.seconds
    epoch.trainer = trainer  # which BLAS threads it chose: trainer.blas_threads()
    return epoch


def _torch_epochs(torch, data: Dataset, work: dict, batch: int, seed: int):
    """The same epoch in PyTorch: nn.Linear layers, F.cross_entropy, optim.SGD; samples/s."""
    torch.manual_seed(seed)
    sizes = work["sizes"]
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=work["lr"])
    x = torch.from_numpy(np.array(data.x_train, dtype=np.float32))  # a writable copy, as torch wants
    y = torch.from_numpy(np.array(data.y_train, dtype=np.int64))
    n = len(x)
    rng = np.random.default_rng(seed)
    cross_entropy = torch.nn.functional.cross_entropy

    def epoch() -> float:
        order = torch.from_numpy(rng.permutation(n))
        t0 = time.perf_counter()
        for k in range(0, n, batch):
            idx = order[k:k + batch]
            xb, yb = x.index_select(0, idx), y.index_select(0, idx)  # gather this mini-batch
            opt.zero_grad()
            loss = cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
        return n / (time.perf_counter() - t0)
    return epoch


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _sigmoid_prime(z):
    return _sigmoid(z) * (1 - _sigmoid(z))


class PerExampleNetwork:
    """Nielsen's network.py, ported to Python 3 and an explicit rng: the seed's baseline.

    Column vectors, weights and biases N(0, 1) in float64, sigmoid neurons, quadratic cost, and
    backprop run one example at a time inside each mini-batch (the loop the engine vectorises).
    """

    def __init__(self, sizes, rng: np.random.Generator):
        self.num_layers = len(sizes)
        self.biases = [rng.standard_normal((y, 1)) for y in sizes[1:]]
        self.weights = [rng.standard_normal((y, x)) for x, y in zip(sizes[:-1], sizes[1:])]

    def epoch(self, training_data: list, mini_batch_size: int, eta: float, rng: np.random.Generator) -> None:
        training_data = [training_data[i] for i in rng.permutation(len(training_data))]  # random.shuffle
        for k in range(0, len(training_data), mini_batch_size):
            self.update_mini_batch(training_data[k:k + mini_batch_size], eta)

    def update_mini_batch(self, mini_batch, eta):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in mini_batch:
            delta_nabla_b, delta_nabla_w = self.backprop(x, y)
            nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
            nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
        self.weights = [w - (eta / len(mini_batch)) * nw for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - (eta / len(mini_batch)) * nb for b, nb in zip(self.biases, nabla_b)]

    def backprop(self, x, y):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        activation = x
        activations = [x]
        zs = []
        for b, w in zip(self.biases, self.weights):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = _sigmoid(z)
            activations.append(activation)
        delta = (activations[-1] - y) * _sigmoid_prime(zs[-1])
        nabla_b[-1] = delta
        nabla_w[-1] = np.dot(delta, activations[-2].transpose())
        for l in range(2, self.num_layers):
            z = zs[-l]
            delta = np.dot(self.weights[-l + 1].transpose(), delta) * _sigmoid_prime(z)
            nabla_b[-l] = delta
            nabla_w[-l] = np.dot(delta, activations[-l - 1].transpose())
        return nabla_b, nabla_w

    def feedforward(self, a):
        for b, w in zip(self.biases, self.weights):
            a = _sigmoid(np.dot(w, a) + b)
        return a


def _loop_epochs(data: Dataset, work: dict, batch: int, seed: int):
    """One epoch of the per-example loop; samples/s. Data as Nielsen's loader gives it: a list of
    (x (784, 1) float32, y one-hot (10, 1)) pairs, built once outside the clock."""
    rng = np.random.default_rng(seed)
    net = PerExampleNetwork(work["sizes"], rng)
    eye = np.eye(work["sizes"][-1])
    pairs = [(x.reshape(-1, 1), eye[y].reshape(-1, 1)) for x, y in zip(data.x_train, data.y_train)]

    def epoch() -> float:
        t0 = time.perf_counter()
        with np.errstate(over="ignore"):  # exp(-z) overflows to inf for z << 0: sigmoid 0, as in the original
            net.epoch(pairs, batch, work["lr"], rng)
        return len(pairs) / (time.perf_counter() - t0)
    return epoch


def _on_threads(budget: int, epoch, torch=None):
    """epoch(), run with at most `budget` BLAS threads (and PyTorch on `budget` threads)."""
    def run() -> float:
        if torch is not None:
            torch.set_num_threads(budget)
        with threads.BlasLimit(budget):
            return epoch()
    run.trainer = getattr(epoch, "trainer", None)
    return run


def _race(contenders: dict, repeats: int, settle: float = 0.0) -> dict:
    """Run every contender's epoch once to warm up, then `repeats` rounds, interleaved.

    settle: seconds to wait before each epoch. With more than one thread, OpenBLAS's workers keep
    spinning for ~0.1 s after a product, and would slow down whichever contender runs next. After
    such a pause, each timed epoch follows an untimed one of its own: the first epoch after a pause
    ran up to 7% slower (nnviz at b128 on 2 threads: 301k samples/s after a pause, 323k after a warm
    epoch; PyTorch the same either way), and the race compares steady speeds.
    Returns name -> list of samples/s.
    """
    for epoch in contenders.values():
        time.sleep(settle)
        epoch()
    runs = {name: [] for name in contenders}
    with _no_gc():
        for _ in range(repeats):
            for name, epoch in contenders.items():
                if settle:
                    time.sleep(settle)
                    epoch()
                runs[name].append(epoch())
    return runs


# ----- the benchmark ---------------------------------------------------------------------------
def environment(torch=None) -> dict:
    """What the figures depend on: the BLAS library and its threads, the OpenBLAS variables in force."""
    blas = [{k: lib.get(k) for k in ("internal_api", "version", "architecture", "threading_layer",
                                     "num_threads")} | {"file": os.path.basename(lib.get("filepath") or "")}
            for lib in threads.blas_info()]
    return {
        "metric": "environment",
        "blas": blas,
        "blas_threads": threads.blas_threads(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE"),
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
        "numpy": np.__version__,
        "torch": torch.__version__ if torch is not None else None,
        "python": platform.python_version(),
        "cpu": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "loadavg": [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None,
    }


def _cpu_ticks(stat: str = "/proc/stat") -> tuple[int, int] | None:
    """(all CPU time, the part a virtual machine's host took for others: steal), in ticks; None where
    the kernel does not say (not Linux)."""
    try:
        with open(stat) as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    # user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user
    return (sum(fields[:8]), fields[7]) if len(fields) >= 8 else None


def _steal_share(before, after) -> float | None:
    """The share of the CPUs' time the host took between two _cpu_ticks() readings."""
    if not before or not after or after[0] <= before[0]:
        return None
    return (after[1] - before[1]) / (after[0] - before[0])


def _import_torch(wanted: bool):
    if not wanted:
        return None
    try:
        import torch
    except Exception:  # not installed (it is never a dependency of the app), or broken
        return None
    return torch


def measure(quick: bool = False, repeats: int | None = None, n_threads: int | None = None,
            use_torch: bool = True, emit=None) -> list[dict]:
    """Run the whole benchmark; returns the records (environment first, targets last).

    emit(record), if given, is called with each record as soon as it is measured.
    """
    repeats = repeats or (1 if quick else 5)
    data = load_bundled()
    if quick:  # a few hundred digits: every code path, in about a second
        data = Dataset(data.x_train[:256], data.y_train[:256], data.x_test[:64], data.y_test[:64],
                       data.n_classes, data.name + "[:256]")
    torch = _import_torch(use_torch)
    records = []
    ticks_before = _cpu_ticks()

    def add(record: dict) -> None:
        records.append(record)
        if emit is not None:
            emit(record)

    add(environment(torch) | {"repeats": repeats, "statistic": "median", "quick": quick,
                              "train_samples": len(data.x_train)})
    common = {"metric": "train_samples_per_s", "statistic": "median"}
    torch_threads = torch.get_num_threads() if torch is not None else None
    most = n_threads or threads.blas_threads() or 1
    forced = threads.BlasLimit(most)
    try:
        forced.apply()
        # 1. [784, 100, 10] relu + softmax cross-entropy against PyTorch, on every thread budget. The
        # budgets take turns within one race, so "on 2 threads / on 1" compares the same minutes of
        # a machine whose load varies.
        budgets = sorted({1, most})
        for batch in MAIN_BATCHES:
            contenders = {}
            for budget in budgets:
                contenders["nnviz", budget] = _on_threads(budget, _nnviz_epochs(data, MAIN, batch, seed=0))
                if torch is not None:
                    contenders["torch", budget] = _on_threads(
                        budget, _torch_epochs(torch, data, MAIN, batch, seed=0), torch)
            runs = _race(contenders, repeats, settle=0.25 if most > 1 and not quick else 0.0)
            for (impl, budget), values in sorted(runs.items(), key=lambda kv: kv[0][1]):
                used = budget
                if impl == "nnviz":  # as the trainer chose within its budget; None: still measuring (--quick)
                    with threads.BlasLimit(budget):
                        used = contenders["nnviz", budget].trainer.blas_threads(batch)
                add(common | {
                    "impl": impl, "sizes": MAIN["sizes"], "activation": MAIN["activation"],
                    "loss": MAIN["loss"], "batch_size": batch, "dtype": "float32", "threads": budget,
                    "threads_used": used, "samples_per_s": float(np.median(values)),
                    "best_samples_per_s": float(max(values)), "runs": [round(v, 1) for v in values]})
        # 1b. One full-MNIST-sized epoch, on the larger budget as the Trainer chooses.
        n_full = 2048 if quick else FULL_EPOCH  # --quick: the same path on a few batches, scaled up
        reps = -(-n_full // len(data.x_train))
        full = Dataset(np.tile(data.x_train, (reps, 1))[:n_full], np.tile(data.y_train, reps)[:n_full],
                       data.x_test, data.y_test, data.n_classes, f"{data.name} tiled to {n_full:,}")
        epoch = _nnviz_epochs(full, MAIN, 32, seed=0)
        runs = _race({"nnviz": epoch}, max(1, min(repeats, 3)))["nnviz"]  # samples/s
        add({"metric": "epoch_seconds", "impl": "nnviz", "sizes": MAIN["sizes"], "batch_size": 32,
             "samples": FULL_EPOCH, "measured_samples": n_full, "threads": most,
             "threads_used": epoch.trainer.blas_threads(32), "statistic": "median",
             "seconds": FULL_EPOCH / float(np.median(runs)), "best_seconds": FULL_EPOCH / float(max(runs))})
        # 2. The seed's workload: nnviz against the per-example loop, both on one BLAS thread.
        with threads.BlasLimit(threads.training_threads(10)):
            n_used = threads.blas_threads()
            runs = _race({"nnviz": _nnviz_epochs(data, SEED, 10, seed=0),
                          "loop": _loop_epochs(data, SEED, 10, seed=0)}, repeats)
        for impl, values in runs.items():
            add(common | {
                "impl": impl, "sizes": SEED["sizes"], "activation": SEED["activation"], "loss": SEED["loss"],
                "batch_size": 10, "dtype": "float32" if impl == "nnviz" else "float64", "threads": n_used,
                "threads_used": n_used,
                "samples_per_s": float(np.median(values)), "best_samples_per_s": float(max(values)),
                "runs": [round(v, 1) for v in values]})
        # 3. Latencies, on one BLAS thread as in the app.
        with threads.BlasLimit(1):
            n_used = threads.blas_threads()
            rng = np.random.default_rng(0)
            digit_model = MLP.create(MAIN["sizes"], "relu", rng=rng)
            digit = np.array(data.x_test[:1])  # (1, 784)
            times = _call_times(lambda: digit_model.predict_proba(digit), 200 if quick else 5000)
            add(_latency("latency_one_digit", MAIN["sizes"], "relu", 1, n_used, times))
            toy = MLP.create(GRID_SIZES, "tanh", rng=rng)
            axis = np.linspace(-EXTENT, EXTENT, GRID, dtype=np.float32)  # the Playground's plane
            xx, yy = np.meshgrid(axis, axis)
            grid = np.column_stack([xx.ravel(), yy.ravel()])  # (40000, 2)
            times = _call_times(lambda: toy.predict_proba(grid), 20 if quick else 500)
            add(_latency(f"grid_{GRID}x{GRID}", GRID_SIZES, "tanh", len(grid), n_used, times))
            times = _call_times(lambda: toy.forward(grid, all_layers=True), 10 if quick else 200)
            add(_latency(f"grid_{GRID}x{GRID}_all_layers", GRID_SIZES, "tanh", len(grid), n_used, times))
    finally:
        forced.restore()
        if torch is not None:
            torch.set_num_threads(torch_threads)
    add(_check_targets(records) | {"host_steal": _steal_share(ticks_before, _cpu_ticks())})
    return records


def _latency(metric: str, sizes, activation: str, batch: int, n_threads, times: np.ndarray) -> dict:
    median = float(np.median(times))
    return {"metric": metric, "impl": "nnviz", "sizes": sizes, "activation": activation, "batch_size": batch,
            "dtype": "float32", "threads": n_threads, "statistic": "median", "calls": len(times),
            "seconds": median, "best_seconds": float(times.min()), "samples_per_s": batch / median}


def _find(records, **match) -> dict | None:
    for r in records:
        if all(r.get(k) == v for k, v in match.items()):
            return r
    return None


def _budgets(records) -> list[int]:
    return sorted({r["threads"] for r in records if r["metric"] == "train_samples_per_s" and r["sizes"] == MAIN["sizes"]})


def _check_targets(records: list[dict]) -> dict:
    """The issue's targets beside the measured values (None where a contender is missing)."""
    def rate(impl, sizes, batch, n=None):
        match = {} if n is None else {"threads": n}
        r = _find(records, metric="train_samples_per_s", impl=impl, sizes=sizes, batch_size=batch, **match)
        return r["samples_per_s"] if r else None

    def ratio(a, b):
        return a / b if a and b else None

    budgets = _budgets(records)
    most = budgets[-1] if budgets else None
    more = [ratio(rate("nnviz", MAIN["sizes"], b, most), rate("nnviz", MAIN["sizes"], b, 1)) for b in MAIN_BATCHES]
    digit = _find(records, metric="latency_one_digit")
    grid = _find(records, metric=f"grid_{GRID}x{GRID}")
    epoch = _find(records, metric="epoch_seconds")
    values = {
        **{f"torch_b{b}_t{tag}": ratio(rate("nnviz", MAIN["sizes"], b, n), rate("torch", MAIN["sizes"], b, n))
           for b in (32, 128) for tag, n in (("1", 1), ("n", most))},
        "more_threads": min(more) if most and most > 1 and all(more) else None,
        "epoch_60k_s": epoch["seconds"] if epoch else None,
        "loop": ratio(rate("nnviz", SEED["sizes"], 10), rate("loop", SEED["sizes"], 10)),
        "digit_us": digit["seconds"] * 1e6 if digit else None,
        "grid_ms": grid["seconds"] * 1e3 if grid else None,
    }
    checks = []
    for name, what, target, how in TARGETS:
        v = values[name]
        met = None if v is None else {">=": v >= target, "<=": v <= target, "<": v < target}[how]
        checks.append({"name": name, "what": what, "value": v, "target": target, "op": how, "met": met})
    return {"metric": "targets", "checks": checks}


# ----- output ----------------------------------------------------------------------------------
def _table(records: list[dict]) -> str:
    env, checks = records[0], {c["name"]: c for c in records[-1]["checks"]}
    blas = "; ".join(f"{b['internal_api']} {b['version']} ({b['architecture']} kernel, {b['threading_layer']})"
                     for b in env["blas"]) or "unknown"
    lines = [
        f"nnviz bench: {env['train_samples']:,} training digits; training figures are the median of "
        f"{env['repeats']} epoch{'s' if env['repeats'] > 1 else ''}, latencies the median of many calls"
        + ("  [--quick: figures mean little]" if env["quick"] else ""),
        f"BLAS: {blas}, {env['blas_threads']} threads; OPENBLAS_CORETYPE={env['OPENBLAS_CORETYPE'] or 'unset'}, "
        f"OPENBLAS_L2_SIZE={env['OPENBLAS_L2_SIZE'] or 'unset'}; numpy {env['numpy']}, "
        f"torch {env['torch'] or 'not used'}; {env['cpus']} CPUs, load {env['loadavg']}",
    ]
    if env["loadavg"] and env["cpus"] and env["loadavg"][0] > 0.5 * env["cpus"]:
        lines.append(f"warning: load average {env['loadavg'][0]:g} on {env['cpus']} CPUs when the run began: other "
                     f"processes share the cores, so the figures are noisy (several threads collapse worst)")
    budgets = _budgets(records)
    for n in budgets:
        lines += ["", f"{MAIN['sizes']} relu + softmax cross-entropy, SGD, samples/s (median), {n} thread"
                  f"{'s' if n > 1 else ''} allowed:",
                  f"{'  batch':<10}{'nnviz':>10}{'(threads)':>10}{'torch':>10}{'nnviz/torch':>13}{'of best':>9}   target"]
        for batch in MAIN_BATCHES:
            nn = _find(records, metric="train_samples_per_s", impl="nnviz", sizes=MAIN["sizes"], batch_size=batch,
                       threads=n)
            pt = _find(records, metric="train_samples_per_s", impl="torch", sizes=MAIN["sizes"], batch_size=batch,
                       threads=n)
            check = checks.get(f"torch_b{batch}_t{'1' if n == 1 else 'n'}")
            ratio = f"{nn['samples_per_s'] / pt['samples_per_s']:.2f}x" if pt else "-"
            best = f"{nn['best_samples_per_s'] / pt['best_samples_per_s']:.2f}x" if pt else "-"
            target = f"{check['op']} {check['target']:g}x" if check else ""
            used = f"({nn['threads_used'] or 'both'})"
            torch_rate = f"{pt['samples_per_s']:,.0f}" if pt else "-"
            lines.append(f"{'  b' + str(batch):<10}{nn['samples_per_s']:>10,.0f}{used:>10}{torch_rate:>10}{ratio:>13}"
                         f"{best:>9}   {target}")
    if len(budgets) > 1:
        cells = []
        for batch in MAIN_BATCHES:
            a, b = (_find(records, metric="train_samples_per_s", impl="nnviz", sizes=MAIN["sizes"], batch_size=batch,
                          threads=n)["samples_per_s"] for n in (budgets[-1], 1))
            cells.append(f"b{batch} {a / b:.2f}x")
        lines.append(f"  nnviz on {budgets[-1]} threads / on 1: {', '.join(cells)}   target >= 0.95x (never slower, "
                     f"within noise)")
    epoch = _find(records, metric="epoch_seconds")
    lines += ["", f"one {epoch['samples']:,}-digit epoch (bundled digits tiled), batch 32, {epoch['threads']} thread(s) "
                  f"allowed ({epoch['threads_used'] or 'both'} used): {epoch['seconds']:.3f} s (best {epoch['best_seconds']:.3f})"
                  f"   target <= 0.4 s"]
    nn = _find(records, metric="train_samples_per_s", impl="nnviz", sizes=SEED["sizes"])
    lp = _find(records, metric="train_samples_per_s", impl="loop", sizes=SEED["sizes"])
    lines.append(f"{SEED['sizes']} sigmoid quadratic b10, 1 thread: nnviz {nn['samples_per_s']:,.0f}, per-example "
                 f"loop {lp['samples_per_s']:,.0f} samples/s: {nn['samples_per_s'] / lp['samples_per_s']:.2f}x"
                 f"   target >= 6x")
    lines.append("")
    for metric, label, scale, unit, key in (("latency_one_digit", "one digit through [784, 100, 10]", 1e6, "us",
                                             "digit_us"),
                                            (f"grid_{GRID}x{GRID}", f"{GRID}x{GRID} grid through 2-8-8-2 tanh",
                                             1e3, "ms", "grid_ms"),
                                            (f"grid_{GRID}x{GRID}_all_layers", "  the same, keeping every layer",
                                             1e3, "ms", None)):
        r = _find(records, metric=metric)
        target = f"{checks[key]['op']} {checks[key]['target']:g} {unit}" if key else ""
        lines.append(f"{label:<38}{r['threads'] or '?':>7}{r['seconds'] * scale:>9.2f} {unit:<3}"
                     f"(best {r['best_seconds'] * scale:.2f}){'':<6}{target}")
    met = [c for c in records[-1]["checks"] if c["met"] is not None]
    lines += ["", f"targets met: {sum(c['met'] for c in met)} of {len(met)}"
              + ("" if len(met) == len(TARGETS) else f" ({len(TARGETS) - len(met)} not measured: no torch, or "
                                                     f"one thread only)")]
    missed = [c["what"] for c in met if not c["met"]]
    if missed:
        lines.append("missed: " + "; ".join(missed))
    steal = records[-1].get("host_steal")
    if steal is not None and steal >= STEAL_WARN:  # a virtual machine whose host was busy: slower by that much
        lines.append(f"warning: the host took {steal:.0%} of these CPUs' time during the run (steal time): "
                     f"every figure is slower than this machine can do")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run the benchmark and print a table (or JSON lines). Returns the exit status."""
    def print_json(record: dict) -> None:
        print(json.dumps(record), flush=True)

    records = measure(quick=args.quick, repeats=args.repeats, n_threads=args.threads,
                      use_torch=not args.no_torch, emit=print_json if args.json else None)
    if not args.json:
        print(_table(records), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m nnviz.cli.bench`: the same as `python -m nnviz bench`."""
    parser = argparse.ArgumentParser(prog="python -m nnviz bench", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
