"""MNIST digits: the bundled 10,000 (works offline) and, opt-in, the full 70,000.

Images are returned flat and scaled to [0, 1]: x (n, 784) float32, y (n,) int64.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from .training import Dataset

BUNDLED = Path(__file__).with_name("data") / "mnist-10k.npz"
BUNDLED_SHA256 = "0217e13bd0668deb198aa7d305edbf0331eb89f8a6e7dd226e03d1aa3a9bd4ef"
TEST_FRACTION = 0.2
SPLIT_SEED = 0


@lru_cache(maxsize=1)
def load_bundled_raw() -> tuple[np.ndarray, np.ndarray]:
    """The bundled digits as stored: images (10000, 28, 28) uint8, labels (10000,) uint8."""
    with np.load(BUNDLED, allow_pickle=False) as f:
        return f["images"], f["labels"]


def stratified_split(labels: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices with every class split in the same proportion (largest remainder)."""
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    exact = counts * test_fraction
    n_test = np.floor(exact).astype(int)
    short = int(round(len(labels) * test_fraction)) - n_test.sum()
    n_test[np.argsort(-(exact - n_test), kind="stable")[:short]] += 1
    train, test = [], []
    for c, k in zip(classes, n_test):
        idx = rng.permutation(np.flatnonzero(labels == c))
        test.append(idx[:k])
        train.append(idx[k:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def flatten(images: np.ndarray) -> np.ndarray:
    """(n, 28, 28) uint8 -> (n, 784) float32 in [0, 1]."""
    return (images.reshape(len(images), -1) / np.float32(255)).astype(np.float32)


@lru_cache(maxsize=1)
def load_bundled() -> Dataset:
    """The bundled digits, split deterministically and stratified into 8,000 train / 2,000 test."""
    images, labels = load_bundled_raw()
    train, test = stratified_split(labels, TEST_FRACTION, SPLIT_SEED)
    x, y = flatten(images), labels.astype(np.int64)
    for a in (x, y):
        a.flags.writeable = False  # shared between sessions: read-only
    return Dataset(x[train], y[train], x[test], y[test], n_classes=10, name="mnist-10k")
