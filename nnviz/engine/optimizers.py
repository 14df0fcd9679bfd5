"""Optimisers: update a list of parameter arrays in place from a matching list of gradients.

They know nothing about layers; `lr` is a plain attribute, so a schedule can change it
between epochs (or between steps).
"""
from __future__ import annotations

import numpy as np

OPTIMIZERS = ("sgd", "momentum", "adam")


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

    def step(self, params, grads) -> None:
        if self.velocity is None:
            self.velocity = [np.zeros_like(p) for p in params]
        for p, g, v in zip(params, grads, self.velocity):
            v *= self.mu
            v -= self.lr * g
            p += v


class Adam:
    """Kingma & Ba (2015): bias-corrected first and second moment estimates."""

    def __init__(self, lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        self.lr, self.beta1, self.beta2, self.eps = float(lr), beta1, beta2, eps
        self.m: list[np.ndarray] | None = None
        self.v: list[np.ndarray] | None = None
        self.t = 0

    def step(self, params, grads) -> None:
        if self.m is None:
            self.m = [np.zeros_like(p) for p in params]
            self.v = [np.zeros_like(p) for p in params]
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        # Fold both bias corrections into the step size: lr_t = lr sqrt(1-b2^t) / (1-b1^t).
        lr_t = self.lr * np.sqrt(1.0 - b2 ** self.t) / (1.0 - b1 ** self.t)
        eps_t = self.eps * np.sqrt(1.0 - b2 ** self.t)
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m *= b1
            m += (1.0 - b1) * g
            v *= b2
            v += (1.0 - b2) * np.square(g)
            p -= lr_t * m / (np.sqrt(v) + eps_t)


def make_optimizer(name: str, lr: float):
    """'sgd', 'momentum' or 'adam' with learning rate lr."""
    classes = {"sgd": SGD, "momentum": Momentum, "adam": Adam}
    if name not in classes:
        raise ValueError(f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}")
    if not np.isfinite(lr) or lr <= 0:
        raise ValueError(f"learning rate must be a positive number; got {lr}")
    return classes[name](lr)
