"""Optimisers: update a list of parameter arrays in place from a matching list of gradients.

They know nothing about layers; `lr` is a plain attribute, so a schedule can change it
between epochs (or between steps).

Momentum and Adam run every step in place, on buffers of their own: a temporary as large as a
[784, 100] weight matrix is a fresh block from the system each time, and its page faults cost more
than the arithmetic (Adam went from ~1.2 ms to ~0.2 ms a step at [784, 100, 10]). Their scalars
are Python floats, so float32 parameters are never promoted to float64 on the way.

Subnormal numbers (below 1.2e-38 in float32) cost the CPU tens of times more than normal ones,
in every product they enter. Momentum's and Adam's moving averages decay geometrically where a
gradient is zero (a pixel that is off in every digit of a batch), and with weight decay Adam drives
the weights of never-lit pixels down by ~10% a step: both fall into the subnormals within an epoch
(a sixth of the first layer did, and each epoch got slower). So every FLUSH_EVERY steps, moments
and parameters below TINY are set to exactly zero, where they were heading anyway.
"""
from __future__ import annotations

import math

import numpy as np

OPTIMIZERS = ("sgd", "momentum", "adam")
FLUSH_EVERY = 8  # steps: even a value halving every step stays 3e-33 > 1.2e-38 from TINY
TINY = 1e-30


def _flush_tiny(arrays: list[np.ndarray], scratch: list[np.ndarray]) -> None:
    """Set entries with |x| < TINY to zero, in place (scratch: same shapes, overwritten)."""
    for a, s in zip(arrays, scratch):
        np.abs(a, out=s)
        np.copyto(a, 0, where=s < TINY)


class SGD:
    """p <- p - lr * g"""

    def __init__(self, lr: float):
        self.lr = float(lr)

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        for p, g in zip(params, grads):
            p -= self.lr * g


class Momentum:
    """v <- mu v - lr g;  p <- p + v  (classical momentum, mu = 0.9)."""

    def __init__(self, lr: float, mu: float = 0.9):
        self.lr, self.mu = float(lr), float(mu)
        self.velocity: list[np.ndarray] | None = None
        self._tmp: list[np.ndarray] = []
        self.t = 0

    def step(self, params, grads) -> None:
        if self.velocity is None:
            self.velocity = [np.zeros_like(p) for p in params]
            self._tmp = [np.empty_like(p) for p in params]
        self.t += 1
        lr = float(self.lr)
        for p, g, v, tmp in zip(params, grads, self.velocity, self._tmp):
            v *= self.mu
            np.multiply(g, lr, out=tmp)
            v -= tmp
            p += v
        if self.t % FLUSH_EVERY == 0:
            _flush_tiny(self.velocity, self._tmp)
            _flush_tiny(params, self._tmp)


class Adam:
    """Kingma & Ba (2015): bias-corrected first and second moment estimates."""

    def __init__(self, lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        self.lr, self.beta1, self.beta2, self.eps = float(lr), float(beta1), float(beta2), float(eps)
        self.m: list[np.ndarray] | None = None
        self.v: list[np.ndarray] | None = None
        self._tmp: list[np.ndarray] = []
        self.t = 0

    def step(self, params, grads) -> None:
        if self.m is None:
            self.m = [np.zeros_like(p) for p in params]
            self.v = [np.zeros_like(p) for p in params]
            self._tmp = [np.empty_like(p) for p in params]
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        # Fold both bias corrections into the step size: lr_t = lr sqrt(1-b2^t) / (1-b1^t).
        lr_t = float(self.lr) * math.sqrt(1.0 - b2 ** self.t) / (1.0 - b1 ** self.t)
        eps_t = self.eps * math.sqrt(1.0 - b2 ** self.t)
        for p, g, m, v, tmp in zip(params, grads, self.m, self.v, self._tmp):
            np.subtract(g, m, out=tmp)  # m <- b1 m + (1-b1) g, as m + (1-b1)(g - m)
            tmp *= 1.0 - b1
            m += tmp
            np.square(g, out=tmp)  # v <- b2 v + (1-b2) g^2
            tmp -= v
            tmp *= 1.0 - b2
            v += tmp
            np.sqrt(v, out=tmp)  # p <- p - lr_t m / (sqrt(v) + eps_t)
            tmp += eps_t
            np.divide(m, tmp, out=tmp)
            tmp *= lr_t
            p -= tmp
        if self.t % FLUSH_EVERY == 0:
            for arrays in (self.m, self.v, params):
                _flush_tiny(arrays, self._tmp)


def make_optimizer(name: str, lr: float):
    """'sgd', 'momentum' or 'adam' with learning rate lr."""
    classes = {"sgd": SGD, "momentum": Momentum, "adam": Adam}
    if name not in classes:
        raise ValueError(f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}")
    if not np.isfinite(lr) or lr <= 0:
        raise ValueError(f"learning rate must be a positive number; got {lr}")
    return classes[name](lr)
