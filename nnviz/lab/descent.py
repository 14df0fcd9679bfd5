"""Gradient descent you can watch: a one-neuron model on the two moons with its two weights free
(the bias stays fixed), the cost over those two as a surface, and the paths of the engine's SGD,
momentum and Adam from a chosen start.

A path is recomputed from its start every time (a few ms), so the page keeps only the start,
the number of steps and the sliders: nothing mutable to share between a rerun and a fragment.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from nnviz.data.toy import moons
from nnviz.engine import functions as F
from nnviz.engine.model import MLP, Architecture
from nnviz.engine.optimizers import SGD, Adam, Momentum

# name -> (output, loss, fixed bias, centre and half-width of the surface (the minimum inside), label)
MODELS = {
    "linear": ("linear", "quadratic", 0.5, (0.0, 0.0), 3.0, "Linear neuron, quadratic cost (a bowl)"),
    "logistic": ("sigmoid", "cross_entropy", 0.0, (1.0, -3.0), 5.0,
                 "Sigmoid neuron, cross-entropy (logistic regression)"),
}
OPTIMIZER_LABELS = {"sgd": "Gradient descent", "momentum": "Momentum", "adam": "Adam"}
BLOW_UP = 1e3  # a cost this many times the start's (or not finite): the path has diverged
MAX_STEPS = 500


@dataclass(frozen=True)
class Surface:
    """The cost over a grid: w1 (n,), w2 (n,), cost (n, n) with axis 0 along w2."""

    w1: np.ndarray
    w2: np.ndarray
    cost: np.ndarray


@dataclass(frozen=True)
class Path:
    """points (k + 1, 2) from the start, cost (k + 1,), and why it stopped early (or '')."""

    points: np.ndarray
    cost: np.ndarray
    diverged: str = ""


class NeuronOnMoons:
    """a = f(w1 x1 + w2 x2 + b) on 200 moons points (noise 0.2, seed 0), b fixed: the engine's
    MLP with sizes (2, 1), so the cost and gradients are the engine's own."""

    def __init__(self, kind: str = "linear", n: int = 200):
        if kind not in MODELS:
            raise ValueError(f"unknown model {kind!r}; choose from {', '.join(MODELS)}")
        output, loss, bias, self.centre, self.span, self.label = MODELS[kind]
        self.kind = kind
        self.x, labels = moons(n, 0.2, np.random.default_rng(0))
        self.model = MLP(Architecture((2, 1), "linear", output, loss), [np.zeros((2, 1))], [np.full(1, bias)])
        self.y = self.model.targets(labels)  # (n, 1): the label itself

    def _at(self, w: np.ndarray) -> MLP:
        self.model.weights[0][:, 0] = w
        return self.model

    def cost(self, w: np.ndarray) -> float:
        z = self._at(w).logits(self.x)
        return float(F.loss_per_example(self.model.arch.output, self.model.arch.loss, z, self.y).mean())

    def gradient(self, w: np.ndarray) -> np.ndarray:
        """dC/dw (2,) at w (2,), by the engine's backprop."""
        return self._at(w).gradients(self.x, self.y).weights[0][:, 0].copy()

    def surface(self, n: int = 51) -> Surface:
        """The cost at n x n weight pairs in one product: each grid point is one column of z (N, n*n),
        and the engine's per-example loss of z.T sums over the N points."""
        axis1 = np.linspace(-self.span, self.span, n) + self.centre[0]
        axis2 = np.linspace(-self.span, self.span, n) + self.centre[1]
        w1, w2 = np.meshgrid(axis1, axis2)
        w = np.stack([w1.ravel(), w2.ravel()])  # (2, n*n)
        z = self.x @ w + self.model.biases[0][0]  # (N, n*n)
        per_point = F.loss_per_example(self.model.arch.output, self.model.arch.loss, z.T.copy(),
                                       np.broadcast_to(self.y[:, 0], z.T.shape))
        return Surface(axis1, axis2, (per_point / len(self.x)).reshape(n, n))

    def hessian(self) -> np.ndarray:
        """The linear neuron's cost is exactly quadratic: H = X^T X / N (2, 2)."""
        return self.x.T @ self.x / len(self.x)

    def stable_lr(self) -> float | None:
        """2 / lambda_max of the Hessian for the linear neuron (above it plain descent diverges)."""
        return 2.0 / float(np.linalg.eigvalsh(self.hessian()).max()) if self.kind == "linear" else None


def make(name: str, lr: float, mu: float = 0.9):
    """The engine's optimiser `name` ('sgd', 'momentum', 'adam') with this learning rate."""
    if name == "sgd":
        return SGD(lr)
    if name == "momentum":
        return Momentum(lr, mu)
    if name == "adam":
        return Adam(lr)
    raise ValueError(f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZER_LABELS)}")


def descend(gradient: Callable[[np.ndarray], np.ndarray], cost: Callable[[np.ndarray], float],
            start, optimizer, steps: int) -> Path:
    """`steps` optimiser steps from start (2,) or (d,); stops early when the cost blows up."""
    p = np.array(start, dtype=np.float64)
    points, costs = [p.copy()], [cost(p)]
    limit = BLOW_UP * max(costs[0], 1e-3)
    for _ in range(min(int(steps), MAX_STEPS)):
        optimizer.step([p], [gradient(p)])
        c = cost(p)
        finite = bool(np.isfinite(c) and np.isfinite(p).all())
        if finite:
            points.append(p.copy())
            costs.append(c)
        if not finite or c > limit:
            return Path(np.array(points), np.array(costs),
                        f"diverged after {len(points) - 1} steps: the cost went from {costs[0]:.3g} to "
                        f"{c:.3g}; the learning rate is too large")
    return Path(np.array(points), np.array(costs))
