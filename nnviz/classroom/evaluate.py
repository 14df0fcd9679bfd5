"""Rating a submitted digit network: clean and robust accuracy on the private held-out digits.

The attack is one fixed, strong L-infinity PGD (the same for every network, so ratings compare):
for each digit the worst case over RUNS, each STEPS signed-gradient steps inside the eps-box,

    1. cross-entropy from the clean digit       2. margin (Carlini-Wagner) from the clean digit
    3. margin from a uniform start in the box   4. cross-entropy from a uniform start in the box

The margin loss max_{j != y} z_j - z_y on the logits z (pre-softmax, or pre-sigmoid for a
Nielsen-style network) has the same signed gradient whatever the logits' scale, so a network whose
logits are multiplied by 1,000 (saturated softmax: zero cross-entropy gradients) gains nothing.
The cross-entropy runs use a fixed temperature too: the logits are divided by the network's own
logit gap (median over the rated digits of top logit - runner-up, at the clean digits) and times
CE_GAP, so scaling the logits leaves the whole attack unchanged, while a network trained with
cross-entropy (the default model's gap is 9.2) is attacked at about its own temperature, as
textbook PGD would (a hotter softmax, gap 6-8, broke up to 1% more of an undefended network's
digits and no more of an adversarially trained one's).

A digit is broken as soon as any step of any run fools it, and leaves the attack there (early
exit): an undefended network costs little, a robust one pays for every step of its survivors.
Measured on one BLAS thread on a quiet machine: about 0.4 s for the default
[784, 100, 10] (python -m nnviz.cli.bench_class), 1.4 s adversarially trained, 1 s for
[784, 300, 10]. rate() does not change the
BLAS thread count (the server and the worker cap it at one).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from nnviz.data.mnist import private_digits
from nnviz.engine.model import MLP
from nnviz.lab.attacks import project

CHALLENGE_SIZE = 20  # digits of a break-round challenge: two of each class
PER_CLASS = 2
N_PIXELS, N_CLASSES = 784, 10
STEPS = 50  # signed steps per run
RUNS = (("ce", False), ("margin", False), ("margin", True), ("ce", True))  # (loss, random start)
CE_GAP = 10.0  # the median logit gap the cross-entropy runs see: about a cross-entropy-trained network's own
CHUNK = 500  # digits attacked together: bounds memory (~1.6 MB a 784-pixel batch) whatever the set
LINF_SLACK = 1e-4  # float rounding allowed beyond eps in a submitted attack (as the MadryLab challenge)


class ChallengeError(ValueError):
    """A submitted attack that breaks the rules; the message is one sentence for the student."""


@dataclass(frozen=True)
class Rating:
    """How a network did on the private digits. Accuracies are fractions in [0, 1]."""

    clean_acc: float  # on all n_clean private digits
    robust_acc: float  # of the n_robust digits, right on the clean digit and under every attack run
    n_clean: int
    n_robust: int  # all private digits (the time budget allows it)
    seconds: float  # wall time of rate()


# ----- the digits -------------------------------------------------------------------------------
def challenge_digits(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The break round's digits: x (20, 784) float32, y (20,) int64, read-only copies.

    Two private digits of each class, chosen and shuffled by seed (the same seed, the same digits).
    """
    x, y = private_digits()
    rng = np.random.default_rng(seed)
    rows = np.concatenate([rng.choice(np.flatnonzero(y == c), PER_CLASS, replace=False) for c in range(N_CLASSES)])
    rows = rng.permutation(rows)
    xc, yc = x[rows], y[rows]  # fancy indexing copies
    xc.flags.writeable = yc.flags.writeable = False
    return xc, yc


# ----- rating -----------------------------------------------------------------------------------
def rate(model: MLP, eps: float, seed: int) -> Rating:
    """Clean accuracy on the 1,000 private digits and robust accuracy at L-infinity eps under the
    fixed attack (module docstring) on all of them. Deterministic for (model, eps, seed): the seed
    only draws the random starts. The model is not changed."""
    start = time.perf_counter()
    _check_model(model)
    eps = _check_eps(eps)
    x, y = private_digits()
    z = _logits(model, x)
    right = _predict(z) == y
    broken = _strong_attack(model, x, y, eps, seed, z)[0]
    return Rating(float(right.mean()), float((right & ~broken).mean()), len(y), len(y),
                  time.perf_counter() - start)


def attack_challenge(model: MLP, x: np.ndarray, y: np.ndarray, eps: float, seed: int = 0) -> np.ndarray:
    """The rating's attack on x (n, 784) with labels y (n,): adversarial images (n, 784) float32.

    A digit the attack fools gets the first image that fooled it; any other keeps the image of its
    smallest margin (closest to fooled). Within eps of x and in [0, 1], so it passes
    validate_adversarial (for x of the challenge's shape)."""
    _check_model(model)
    eps = _check_eps(eps)
    x32 = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.int64)
    if x32.ndim != 2 or x32.shape[1] != N_PIXELS or y.shape != (len(x32),):
        raise ValueError(f"x must be (n, {N_PIXELS}) with y (n,); got {x32.shape} and {y.shape}")
    best = _strong_attack(model, x32, y, eps, seed, _logits(model, x32), keep_images=True)[1]
    return project(best.astype(np.float32), x32, np.float32(eps))  # re-checked in float32


def count_fooled(model: MLP, x_adv: np.ndarray, x: np.ndarray, y: np.ndarray) -> int:
    """How many digits the model gets right on x (n, 784) but wrong on x_adv (n, 784)."""
    y = np.asarray(y, dtype=np.int64)
    right = _predict(_logits(model, x)) == y
    return int((right & (_predict(_logits(model, x_adv)) != y)).sum())


# ----- checking a student's attack --------------------------------------------------------------
def validate_adversarial(x_adv, x_orig: np.ndarray, eps: float) -> np.ndarray:
    """A submitted attack as a float32 copy (20, 784), or ChallengeError saying what is wrong: the
    MadryLab MNIST challenge's rules (numeric, exact shape, finite, in [0, 1], within eps + 1e-4)."""
    try:
        a = np.asarray(x_adv)
    except (ValueError, TypeError):
        raise ChallengeError("The adversarial images could not be read as an array of numbers.") from None
    if a.dtype.kind not in "iuf":
        raise ChallengeError(f"The adversarial images must be numbers (integers or floats); got dtype {a.dtype}.")
    shape = (CHALLENGE_SIZE, N_PIXELS)
    if a.shape != shape:
        raise ChallengeError(f"The adversarial images must have shape {shape}; got {a.shape}.")
    a = a.astype(np.float64)
    bad = int((~np.isfinite(a)).sum())
    if bad:
        raise ChallengeError(f"The adversarial images contain {bad} values that are not finite (NaN or infinity).")
    if a.min() < 0 or a.max() > 1:
        raise ChallengeError(f"Pixel values must be in [0, 1]; found values from {a.min():.4g} to {a.max():.4g}.")
    change = float(np.abs(a - np.asarray(x_orig, dtype=np.float64)).max())
    if change > float(eps) + LINF_SLACK:
        raise ChallengeError(f"A pixel changed by {change:.4g}, more than the allowed eps {float(eps):g}.")
    return a.astype(np.float32)


# ----- the attack -------------------------------------------------------------------------------
def _strong_attack(model: MLP, x: np.ndarray, y: np.ndarray, eps: float, seed: int, z_clean: np.ndarray,
                   keep_images: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """Every run of RUNS on x (n, 784), chunk by chunk. z_clean: the clean logits (n, 10).

    Returns (broken (n,) bool: right on the clean digit and fooled by some run, or wrong already;
    with keep_images, the images (n, 784) described in attack_challenge, else None)."""
    broken = _predict(z_clean) != y
    best = x.astype(model.dtype) if keep_images else None
    if eps == 0:
        return broken, best
    temperature = _temperature(z_clean)
    for lo in range(0, len(x), CHUNK):
        rows = slice(lo, lo + CHUNK)
        best_part = best[rows] if keep_images else None  # a view: written in place
        _attack_chunk(model, np.asarray(x[rows], dtype=model.dtype), y[rows], eps, temperature,
                      np.random.default_rng([seed, lo]), broken[rows], best_part, _margin(z_clean[rows], y[rows]))
    return broken, best


def _attack_chunk(model, x, y, eps, temperature, rng, broken, best, best_margin) -> None:
    """RUNS on one chunk x (m, 784); marks broken (m,) in place and, if best is given, keeps the
    images there (m, 784). A run's random start is drawn for every row of the chunk, so a digit's
    attack does not depend on which other digits broke."""
    for loss, random_start in RUNS:
        idx = np.flatnonzero(~broken)  # rows still standing
        if len(idx) == 0:
            return
        noise = rng.uniform(-eps, eps, x.shape).astype(x.dtype) if random_start else None
        x0, yy = x[idx], y[idx]
        xa = x0 + noise[idx] if random_start else x0.copy()
        project(xa, x0, eps)
        for k in range(STEPS + 1):
            z = model.logits(xa)  # (a, 10): a rows still standing
            fooled = _predict(z) != yy
            if fooled.any():
                broken[idx[fooled]] = True
                if best is not None:
                    best[idx[fooled]] = xa[fooled]
                keep = ~fooled
                xa, x0, yy, idx, z = xa[keep], x0[keep], yy[keep], idx[keep], z[keep]
                if len(idx) == 0:
                    break
            if k == STEPS:
                break
            g = model.backward_to_input(xa, _d_logits(z, yy, loss, temperature))
            np.sign(g, out=g)
            np.nan_to_num(g, copy=False)  # a NaN gradient (a broken network) moves nothing
            xa += _step(k, eps) * g
            project(xa, x0, eps)
        if best is not None and len(idx):
            m = _margin(z, yy)
            closer = m < best_margin[idx]
            best[idx[closer]], best_margin[idx[closer]] = xa[closer], m[closer]


def _step(k: int, eps: float) -> float:
    """Step size of step k: from 0.52 eps down to 0.02 eps in a straight line; the large early
    steps cross the box (13.5 eps in all), the small late ones settle near the best corner."""
    return eps * (0.5 * (1 - k / STEPS) + 0.02)


def _d_logits(z: np.ndarray, y: np.ndarray, loss: str, temperature: float) -> np.ndarray:
    """dLoss/dz (a, 10) of the loss each run climbs, for logits z (a, 10) and labels y (a,).

    ce: softmax cross-entropy of z / temperature (the gradient's positive factor 1/temperature is
    dropped: only its sign is used). margin: z_j* - z_y, j* the largest other logit."""
    rows = np.arange(len(z))
    if loss == "ce":
        p = z / temperature
        p -= p.max(axis=1, keepdims=True)
        np.exp(p, out=p)
        p /= p.sum(axis=1, keepdims=True)
        p[rows, y] -= 1
        return p
    others = z.copy()
    others[rows, y] = -np.inf
    d = np.zeros_like(z)
    d[rows, others.argmax(axis=1)] = 1
    d[rows, y] = -1
    return d


def _temperature(z: np.ndarray) -> float:
    """The network's median gap between its top two clean logits over z (n, 10), divided by CE_GAP;
    1 when the gap is zero or not finite (a network with nothing to scale)."""
    top2 = np.sort(z.astype(np.float64), axis=1)[:, -2:]
    gap = float(np.median(top2[:, 1] - top2[:, 0]))
    return gap / CE_GAP if np.isfinite(gap) and gap > 0 else 1.0


def _margin(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """z_y - max_{j != y} z_j per row (a,): below zero the digit is fooled (at zero, argmax decides)."""
    rows = np.arange(len(z))
    others = z.astype(np.float64)
    zy = others[rows, y].copy()
    others[rows, y] = -np.inf
    return zy - others.max(axis=1)


# ----- small helpers ----------------------------------------------------------------------------
def _logits(model: MLP, x: np.ndarray) -> np.ndarray:
    """Logits (n, 10) of x (n, 784), in chunks of CHUNK rows."""
    return np.concatenate([model.logits(x[i:i + CHUNK]) for i in range(0, len(x), CHUNK)]) if len(x) \
        else np.zeros((0, model.sizes[-1]), model.dtype)


def _predict(z: np.ndarray) -> np.ndarray:
    """The class a network says for logits z (n, 10): the largest (the same under softmax or
    sigmoid outputs); -1, never right, for a row with a NaN or infinite logit."""
    pred = z.argmax(axis=1)
    pred[~np.isfinite(z).all(axis=1)] = -1
    return pred


def _check_model(model: MLP) -> None:
    if model.sizes[0] != N_PIXELS or model.sizes[-1] != N_CLASSES:
        raise ChallengeError(f"A digit network must take {N_PIXELS} pixels and give {N_CLASSES} outputs; "
                             f"this one is {list(model.sizes)}.")


def _check_eps(eps: float) -> float:
    eps = float(eps)
    if not np.isfinite(eps) or eps < 0:
        raise ValueError(f"eps must be a number >= 0; got {eps}")
    return eps
