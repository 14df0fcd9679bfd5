"""Two-dimensional toy datasets, each a function (n, noise, rng) -> (x (n, 2), y (n,)).

All sets live roughly inside [-1.5, 1.5]^2, so a plot can keep fixed axes between sets.
`noise` is the standard deviation of Gaussian jitter, in those units (the seed's moons: 0.2).
"""
from __future__ import annotations

import numpy as np

from nnviz.engine.training import Dataset

EXTENT = 1.8  # plots show [-EXTENT, EXTENT]^2: at the default noise 0.2, 99% of the moons' points (1.6: 95.5%)


def moons(n: int, noise: float, rng: np.random.Generator):
    """Two interleaving half circles (sklearn's make_moons), centred on the origin."""
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    x = np.concatenate([np.c_[np.cos(t_out), np.sin(t_out)],
                        np.c_[1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5]])
    x -= (0.5, 0.25)
    y = np.r_[np.zeros(n_out, int), np.ones(n_in, int)]
    return _jitter_shuffle(x, y, noise, rng)


def circles(n: int, noise: float, rng: np.random.Generator):
    """A disc of class 1 inside a ring of class 0."""
    n_out = n // 2
    r = np.r_[rng.uniform(0.75, 1.2, n_out), rng.uniform(0.0, 0.45, n - n_out)]
    t = rng.uniform(0, 2 * np.pi, n)
    x = np.c_[r * np.cos(t), r * np.sin(t)]
    y = np.r_[np.zeros(n_out, int), np.ones(n - n_out, int)]
    return _jitter_shuffle(x, y, noise, rng)


def xor(n: int, noise: float, rng: np.random.Generator):
    """Four quadrants: class 1 where x1 and x2 have the same sign."""
    x = rng.uniform(-1.2, 1.2, (n, 2))
    x += np.sign(x) * 0.08  # a small gap along the axes
    y = (x[:, 0] * x[:, 1] > 0).astype(int)
    return _jitter_shuffle(x, y, noise, rng, shuffle=False)


def gauss(n: int, noise: float, rng: np.random.Generator):
    """Two Gaussian blobs, separable by a straight line (logistic regression suffices)."""
    n0 = n // 2
    centres = np.r_[np.tile((-0.6, -0.6), (n0, 1)), np.tile((0.6, 0.6), (n - n0, 1))]
    x = centres + rng.standard_normal((n, 2)) * 0.3
    y = np.r_[np.zeros(n0, int), np.ones(n - n0, int)]
    return _jitter_shuffle(x, y, noise, rng)


def spiral(n: int, noise: float, rng: np.random.Generator):
    """Two interleaved spiral arms, one and a half turns each: the hard one."""
    return _spiral_arms(n, 2, noise, rng)


def spiral3(n: int, noise: float, rng: np.random.Generator):
    """Three interleaved spiral arms: three classes."""
    return _spiral_arms(n, 3, noise, rng)


def blobs(n: int, noise: float, rng: np.random.Generator):
    """Four Gaussian blobs, one class each: the simplest multi-class set."""
    k = 4
    y = np.arange(n) % k
    angle = 2 * np.pi * y / k + np.pi / 4
    x = 0.8 * np.c_[np.cos(angle), np.sin(angle)] + rng.standard_normal((n, 2)) * 0.25
    return _jitter_shuffle(x, y, noise, rng)


def _spiral_arms(n: int, k: int, noise: float, rng: np.random.Generator):
    y = np.arange(n) % k
    t = rng.uniform(0, 1, n) ** 0.8  # a little denser towards the centre
    r = 0.1 + 1.3 * t
    angle = 3 * np.pi * t + 2 * np.pi * y / k
    x = np.c_[r * np.cos(angle), r * np.sin(angle)]
    return _jitter_shuffle(x, y, noise, rng)


def _jitter_shuffle(x, y, noise, rng, shuffle=True):
    if noise < 0:
        raise ValueError("noise must be >= 0")
    x = x + rng.standard_normal(x.shape) * noise
    if shuffle:
        order = rng.permutation(len(y))
        x, y = x[order], y[order]
    return x.astype(np.float32), y.astype(np.int64)


GENERATORS = {"moons": moons, "circles": circles, "xor": xor, "gauss": gauss,
              "spiral": spiral, "spiral3": spiral3, "blobs": blobs}
N_CLASSES = {"moons": 2, "circles": 2, "xor": 2, "gauss": 2, "spiral": 2, "spiral3": 3, "blobs": 4}


def train_test_split(x: np.ndarray, y: np.ndarray, test_ratio: float, rng: np.random.Generator):
    """Shuffle and split; test_ratio in [0, 0.9]. Returns x_train, y_train, x_test, y_test.

    Raises ValueError (a sentence for the user) when no point would be left to train on.
    """
    if not 0 <= test_ratio <= 0.9:
        raise ValueError("test_ratio must be between 0 and 0.9")
    order = rng.permutation(len(y))
    n_test = int(round(len(y) * test_ratio))
    if n_test >= len(y):
        raise ValueError(f"A test share of {test_ratio:g} leaves none of the {len(y)} points for training: "
                         f"lower the test share, or use more points.")
    test, train = order[:n_test], order[n_test:]
    return x[train], y[train], x[test], y[test]


def make_dataset(name: str, n: int = 200, noise: float = 0.2, test_ratio: float = 0.5,
                 rng: np.random.Generator | None = None) -> Dataset:
    """A named toy set, split into train and test."""
    if name not in GENERATORS:
        raise ValueError(f"unknown dataset {name!r}; choose from {', '.join(GENERATORS)}")
    if n < 4:
        raise ValueError("need at least 4 points")
    rng = rng if rng is not None else np.random.default_rng(0)
    x, y = GENERATORS[name](n, noise, rng)
    return Dataset(*train_test_split(x, y, test_ratio, rng), n_classes=N_CLASSES[name], name=name)
