"""The loss landscape of a trained network: its cost on a plane through its weights (Li, Xu,
Taylor, Studer and Goldstein 2018, "Visualizing the Loss Landscape of Neural Nets").

The plane is theta* + alpha d1 + beta d2 around the trained weights theta*. With "random"
directions each d is Gaussian and filter-normalised: every neuron's incoming weights (a column
of W, (n_in,)) are scaled to the norm of that neuron's own weights, so the picture does not
depend on the scale of each layer; the biases do not move (as in the paper). With "pca" the
directions are the top two principal components of the training path (the paper's figure 9),
the plane the path moves in most. The path (per-epoch snapshots) is projected onto the plane.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnviz.engine import functions as F
from nnviz.engine.model import MLP

DIRECTIONS = ("random", "pca")
MAX_RESOLUTION = 101
CHUNK_NUMBERS = 1 << 21  # numbers per layer in one batched pass (8 MB in float32)
# The work of one picture, in multiply-adds (an activation counted as 4): r^2 grid points x N
# examples x the network's size. Above it the loss is taken on a fixed sample of the training
# points (never fewer than MIN_POINTS), so a picture takes about a second on one core.
WORK_BUDGET, MIN_POINTS = 1.2e8, 50


@dataclass(frozen=True)
class Landscape:
    """alpha (r,), beta (r,), loss (r, r) with axis 0 along beta; centre_loss the model's own
    loss on the n_points examples used (of n_total: a fixed sample of a large set); path (k, 2) the snapshots' (alpha, beta), path_epochs (k,), path_loss (k,) their true
    loss; directions the two as flat vectors (n_params,) over model.params()."""

    alpha: np.ndarray
    beta: np.ndarray
    loss: np.ndarray
    centre_loss: float
    path: np.ndarray
    path_epochs: np.ndarray
    path_loss: np.ndarray
    kind: str
    n_points: int
    n_total: int
    directions: tuple[np.ndarray, np.ndarray]


def flat(params: list[np.ndarray]) -> np.ndarray:
    return np.concatenate([p.ravel() for p in params]).astype(np.float64)


def _set(model: MLP, vector: np.ndarray) -> None:
    """Write a flat vector (n_params,) into the model's weights and biases, in place."""
    i = 0
    for p in model.params():
        p[...] = vector[i:i + p.size].reshape(p.shape)
        i += p.size


def filter_normalised_direction(model: MLP, rng: np.random.Generator) -> np.ndarray:
    """A Gaussian direction (n_params,) with each neuron's incoming weights scaled to the norm of
    that neuron's weights in the model; zero on the biases."""
    parts = []
    for w in model.weights:
        d = rng.standard_normal(w.shape)
        d *= np.linalg.norm(w, axis=0) / np.maximum(np.linalg.norm(d, axis=0), 1e-12)  # per column
        parts.append(d)
    parts += [np.zeros(b.shape) for b in model.biases]
    return flat(parts)


def pca_directions(path: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The top two principal directions (unit, (n_params,)) of path (k, n_params) relative to its
    last point; when the path is too short, random unit vectors complete the pair."""
    diffs = path[:-1] - path[-1]
    vecs = []
    if len(diffs) and np.abs(diffs).max() > 0:
        _, _, vt = np.linalg.svd(diffs, full_matrices=False)
        vecs = [v for v in vt[:2]]
    rng = np.random.default_rng(0)
    while len(vecs) < 2:
        v = rng.standard_normal(path.shape[1])
        for u in vecs:
            v -= (v @ u) * u
        vecs.append(v / np.linalg.norm(v))
    return vecs[0], vecs[1]


def project(points: np.ndarray, centre: np.ndarray, d1: np.ndarray, d2: np.ndarray) -> np.ndarray:
    """Least-squares (alpha, beta) (k, 2) of points (k, n) - centre in the span of d1, d2."""
    basis = np.stack([d1, d2], axis=1)  # (n, 2)
    coef, *_ = np.linalg.lstsq(basis, (points - centre).T, rcond=None)
    return coef.T


def _symmetric_axis(extent: float, resolution: int) -> np.ndarray:
    """resolution points from -extent to extent, mirror images of each other: with an odd count
    the middle one is exactly 0, the model itself (linspace leaves it ~1e-17 off for some spans)."""
    axis = np.linspace(-extent, extent, resolution)
    return (axis - axis[::-1]) / 2


def landscape(model: MLP, x: np.ndarray, labels: np.ndarray, path_params: list[list[np.ndarray]] | None = None,
              path_epochs=None, kind: str = "random", resolution: int = 51, span: float = 1.0,
              seed: int = 0) -> Landscape:
    """The data loss (no regularisation) of model on (x (n, d), labels (n,)) at resolution^2
    points of the plane, alpha and beta in [-span, span] (random) or covering the path (pca).
    path_params: the snapshots' model.params() in epoch order (the last one may be the model)."""
    if kind not in DIRECTIONS:
        raise ValueError(f"unknown directions {kind!r}; choose from {', '.join(DIRECTIONS)}")
    resolution = int(np.clip(resolution, 3, MAX_RESOLUTION))
    n_total = len(x)
    x, labels = sample_for(model, x, labels, resolution)
    work = model.copy()  # a private copy: the session's model is never touched
    centre = flat(work.params())
    path = np.array([flat(p) for p in path_params]) if path_params else centre[None, :]
    epochs = np.asarray(path_epochs if path_epochs is not None else np.arange(len(path)))
    if kind == "random":
        rng = np.random.default_rng(seed)
        d1, d2 = filter_normalised_direction(work, rng), filter_normalised_direction(work, rng)
        extent = (span, span)
    else:
        d1, d2 = pca_directions(np.vstack([path, centre]))
    coords = project(path, centre, d1, d2)
    if kind == "pca":  # cover the path with a margin (or a unit square around a lone point)
        reach = np.abs(coords).max(axis=0) * 1.25 if len(coords) > 1 else np.zeros(2)
        extent = tuple(float(r) if r > 1e-9 else span for r in reach)
    alpha, beta = (_symmetric_axis(e, resolution) for e in extent)
    a_grid, b_grid = np.meshgrid(alpha, beta)  # (r, r), axis 0 along beta
    points = centre + a_grid.reshape(-1, 1) * d1 + b_grid.reshape(-1, 1) * d2  # (r*r, n_params)
    loss = losses_at(work, points, x, labels).reshape(resolution, resolution)
    _set(work, centre)
    return Landscape(alpha, beta, loss, work.loss(x, labels), coords, epochs, losses_at(work, path, x, labels),
                     kind, len(x), n_total, (d1, d2))


def sample_for(model: MLP, x: np.ndarray, labels: np.ndarray, resolution: int):
    """All of (x, labels), or a fixed random sample of them when all would exceed WORK_BUDGET."""
    per_point = sum(a * b + 4 * b for a, b in zip(model.sizes[:-1], model.sizes[1:])) * resolution ** 2
    n = max(MIN_POINTS, int(WORK_BUDGET // per_point))
    if len(x) <= n:
        return x, labels
    keep = np.sort(np.random.default_rng(0).choice(len(x), n, replace=False))
    return x[keep], labels[keep]


def losses_at(model: MLP, points: np.ndarray, x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """model.loss(x, labels) at each row of points (k, n_params), many at once: the same layers
    a = f(a W + b) with the engine's activation, output and loss functions, over a stack of K
    weight sets (K, n_in, n_out) instead of one (a Python loop of 2,601 passes takes seconds)."""
    arch, sizes = model.arch, model.sizes
    x = np.asarray(x, model.dtype)  # the model's own precision, as model.loss computes it
    y = model.targets(labels).astype(np.float64)
    k_max = max(1, CHUNK_NUMBERS // (len(x) * max(sizes[1:])))
    out = np.empty(len(points))
    for start in range(0, len(points), k_max):
        chunk = points[start:start + k_max].astype(model.dtype)  # (K, n_params)
        ws, bs, i = [], [], 0
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            ws.append(chunk[:, i:i + n_in * n_out].reshape(-1, n_in, n_out))
            i += n_in * n_out
        for n_out in sizes[1:]:
            bs.append(chunk[:, i:i + n_out])
            i += n_out
        a = x[None]  # (1, N, n_in): broadcast over the K weight sets
        for l, (w, b) in enumerate(zip(ws, bs)):
            a = np.matmul(a, w)  # (K, N, n_out)
            a += b[:, None, :]
            if l < len(ws) - 1:
                F.activate(arch.activation, a)
        k, n, n_out = a.shape
        z = a.reshape(k * n, n_out).astype(np.float64)  # the loss in float64, like model.loss
        per_example = F.loss_per_example(arch.output, arch.loss, z, np.tile(y, (k, 1)))
        out[start:start + k] = per_example.reshape(k, n).mean(axis=1)
    return out
