"""Mini-batch training as a generator of immutable statistics.

The trainer never prints and never sleeps: a caller (CLI, Streamlit page, test) pulls one
EpochStats at a time, draws whatever it likes, and may stop, pause (simply not pull) and resume.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from nnviz.engine import threads
from nnviz.engine.model import MLP
from nnviz.engine.optimizers import SGD, make_optimizer

# Train loss/accuracy are measured on at most this many training examples (a fixed subset),
# so an epoch's bookkeeping stays cheap on the full 60,000-digit MNIST.
TRAIN_EVAL_LIMIT = 10_000


@dataclass(frozen=True)
class Dataset:
    """A classification set: x (n, d) float, y (n,) integer labels in [0, n_classes)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    name: str = ""


@dataclass(frozen=True)
class TrainConfig:
    optimizer: str = "sgd"
    lr: float = 0.1
    batch_size: int = 32
    l1: float = 0.0
    l2: float = 0.0


@dataclass(frozen=True)
class EpochStats:
    """What happened up to this point. epoch is fractional for the within-epoch reports."""

    epoch: float
    train_loss: float
    test_loss: float
    train_acc: float
    test_acc: float
    seconds: float  # training time of this epoch so far (evaluation excluded)
    samples_seen: int
    end_of_epoch: bool = True
    # Examples sent forward through a network to learn, since the start (evaluation excluded): the
    # fair measure of compute between backprop (each example once an epoch; its backward pass costs
    # about two more) and evolution (each example once per individual per generation).
    forward_passes: int = 0
    total_seconds: float = 0.0  # learning time since the start (evaluation excluded)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def scores_of(model: MLP, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
              l1: float = 0.0, l2: float = 0.0) -> tuple[float, float, float, float]:
    """(train loss, test loss, train accuracy, test accuracy), losses with the penalty; NaN for
    the test set when it is empty. The order EpochStats takes them in."""
    train_loss, train_acc = model.evaluate(x_train, y_train)
    if len(x_test):
        test_loss, test_acc = model.evaluate(x_test, y_test)
    else:
        test_loss, test_acc = float("nan"), float("nan")
    pen = model.penalty(l1, l2)
    return train_loss + pen, test_loss + pen, train_acc, test_acc


class TrainingDiverged(ArithmeticError):
    """The loss became NaN or infinite; the model is rolled back to its last finite state."""


class Trainer:
    """Trains `model` on `data` with `config`. The model is updated in place.

    >>> for stats in Trainer(model, data, TrainConfig(lr=0.5)).epochs(5): print(stats.test_acc)
    """

    def __init__(self, model: MLP, data: Dataset, config: TrainConfig, rng: np.random.Generator,
                 augment: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None):
        # augment(xb (b, d), yb one-hot (b, k)) -> xb: changes each gathered mini-batch before the
        # gradient step (e.g. FGSM examples mixed in for adversarial training). None: plain training.
        self.augment = augment
        if config.batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if len(data.y_train) == 0:  # every loss and accuracy would be a division by zero
            raise ValueError("there are no training points")
        self.model, self.data, self.config, self.rng = model, data, config, rng
        self.optimizer = make_optimizer(config.optimizer, config.lr)
        dt = model.dtype
        self._x = np.ascontiguousarray(data.x_train, dtype=dt)
        self._y = model.targets(data.y_train)
        self._x_test = np.ascontiguousarray(data.x_test, dtype=dt)
        n = len(self._x)
        eval_idx = np.sort(rng.choice(n, TRAIN_EVAL_LIMIT, replace=False)) if n > TRAIN_EVAL_LIMIT else slice(None)
        self._x_eval, self._y_eval = self._x[eval_idx], data.y_train[eval_idx]
        self.epoch = 0
        self.history: list[EpochStats] = []
        self.forward_passes, self.total_seconds = 0, 0.0  # up to the last completed epoch
        self._last_good = model.copy()
        self._thread_choices: dict[int, threads.ThreadChoice] = {}  # batch size -> BLAS threads, measured

    @property
    def lr(self) -> float:
        return self.optimizer.lr

    @lr.setter
    def lr(self, value: float) -> None:
        """Change the learning rate between steps (a schedule, or a slider in the UI)."""
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f"learning rate must be a positive number; got {value}")
        self.optimizer.lr = float(value)

    def measure(self, epoch: float, seconds: float, samples: int, end: bool) -> EpochStats:
        scores = scores_of(self.model, self._x_eval, self._y_eval, self._x_test, self.data.y_test,
                           self.config.l1, self.config.l2)
        done = 0 if end else samples  # within an epoch: the part of it trained so far
        return EpochStats(epoch, *scores, seconds, samples, end,
                          self.forward_passes + done, self.total_seconds + (0.0 if end else seconds))

    def _diverged(self, where: str) -> TrainingDiverged:
        self.model.weights[:] = [w.copy() for w in self._last_good.weights]
        self.model.biases[:] = [b.copy() for b in self._last_good.biases]
        # The optimiser's state (momentum, Adam's moments) holds the NaN/inf too: start it afresh.
        self.optimizer = make_optimizer(self.config.optimizer, self.optimizer.lr)
        return TrainingDiverged(
            f"Training diverged {where}: the loss became NaN or infinite. The learning rate "
            f"{self.lr:g} is too large for this network; lower it and reset.")

    def epochs(self, n: int | None = None, every_batches: int | None = None) -> Iterator[EpochStats]:
        """Train n more epochs (forever if None), yielding EpochStats after each one.

        With every_batches=k it also yields (end_of_epoch=False) after every k mini-batches.
        Raises TrainingDiverged (model rolled back to the last finite weights) on NaN/inf.
        """
        done = 0
        while n is None or done < n:
            yield from self._one_epoch(every_batches)
            done += 1

    def blas_threads(self, batch_size: int | None = None) -> int | None:
        """How many BLAS threads this trainer uses at that batch size (default: its own); None until it
        has measured (the first ~36 mini-batches at that size)."""
        choice = self._thread_choices.get(batch_size or self.config.batch_size)
        if choice is None or choice.measuring:
            return None
        return choice.chosen or threads.blas_threads()

    def train_epoch(self) -> EpochStats:
        """Run one epoch and return its stats."""
        *_, last = self._one_epoch(None)
        return last

    def _one_epoch(self, every_batches: int | None) -> Iterator[EpochStats]:
        model, opt, cfg = self.model, self.optimizer, self.config
        params = model.params()
        n = len(self._x)
        bs = min(cfg.batch_size, n)
        order = self.rng.permutation(n)
        n_batches = -(-n // bs)
        fused = type(opt) is SGD  # plain SGD: the step is fused into backprop (MLP.sgd_step)
        # BLAS threads: one for small batches, else as measured (threads.ThreadChoice, kept per batch
        # size for the trainer's life). The setting is process-wide, so it is released while paused.
        choice = self._thread_choices.setdefault(bs, threads.ThreadChoice(bs))
        blas = threads.BlasLimit(choice.limit())
        elapsed, t0 = 0.0, time.perf_counter()
        # NumPy's error state is a context variable: entered per batch and never held across a yield,
        # since a caller may resume this generator from another context (a Streamlit rerun does).
        quiet = dict(over="ignore", invalid="ignore", divide="ignore", under="ignore")
        try:
            blas.apply()
            for k in range(n_batches):
                if choice.limit() != blas.n:  # the next measuring block, or the measured choice
                    blas.restore()
                    blas = threads.BlasLimit(choice.limit())
                    blas.apply()
                t_batch = time.perf_counter()
                with np.errstate(**quiet):
                    idx = order[k * bs:(k + 1) * bs]
                    xb = model.batch_buffer(len(idx))
                    np.take(self._x, idx, axis=0, out=xb)  # gather straight into the reused buffer
                    if self.augment is not None:
                        xb = self.augment(xb, self._y[idx])
                    if fused:
                        finite = model.sgd_step(xb, self._y[idx], opt.lr, cfg.l1, cfg.l2)
                    else:
                        g = model.gradients(xb, self._y[idx], cfg.l1, cfg.l2)
                        # NaN/inf anywhere upstream reaches the output layer's bias gradient.
                        finite = bool(np.isfinite(g.biases[-1]).all())
                        if finite:
                            opt.step(params, g.weights + g.biases)
                    if not finite:
                        raise self._diverged(f"in epoch {self.epoch + 1}, batch {k + 1}")
                if len(idx) == bs:  # measuring, or watching the threads it chose
                    choice.record(time.perf_counter() - t_batch)
                if every_batches and (k + 1) % every_batches == 0 and k + 1 < n_batches:
                    elapsed += time.perf_counter() - t0
                    with np.errstate(**quiet):  # evaluated on the training's threads too (see below)
                        stats = self.measure(self.epoch + (k + 1) / n_batches, elapsed, (k + 1) * bs, False)
                    blas.restore()
                    yield stats
                    blas.apply()
                    t0 = time.perf_counter()  # after the yield: the time the caller held it is not training
            elapsed += time.perf_counter() - t0
        finally:
            blas.restore()
        self.epoch += 1
        self.forward_passes += n
        self.total_seconds += elapsed
        # Evaluated on the threads training uses: after all threads collapsed (a busy core), BLAS's
        # idle workers would otherwise spin on after the evaluation, into the next epoch's batches.
        with np.errstate(**quiet), threads.BlasLimit(choice.limit()):
            stats = self.measure(self.epoch, elapsed, n, True)
        if not (np.isfinite(stats.train_loss) and model.is_finite()):
            self.epoch -= 1
            self.forward_passes -= n
            self.total_seconds -= elapsed
            raise self._diverged(f"in epoch {self.epoch + 1}")
        self._last_good = model.copy()
        self.history.append(stats)
        yield stats
