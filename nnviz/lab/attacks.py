"""Adversarial examples, written with the network's own input gradient (NumPy only, batch-first).

Every attack takes images x (n, d) in [0, 1] and returns images of the same shape that stay in
[0, 1] and within eps of x in the L-infinity norm (each pixel moves by at most eps).

- fgsm: one step of size eps along sign(dL/dx) (Goodfellow, Shlens and Szegedy 2015).
- pgd: many small signed steps, each projected back into the eps-box (Madry et al. 2018);
  targeted=True walks *down* the loss of a chosen class instead of up the loss of the true one.
- fooling_images: no eps at all; climb one class's probability from a blank or noisy image.
- random_noise: random signs of the same size eps, the control that shows it is not just noise.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from nnviz.engine.model import MLP
from nnviz.engine.training import Dataset, EpochStats, TrainConfig, Trainer
from nnviz.lab.pretrained import TrainedModel

METHODS = ("fgsm", "pgd", "targeted")


# ----- the attacks -------------------------------------------------------------------------
def _labels(labels, n: int) -> np.ndarray:
    """Integer labels (n,), broadcasting a single int to every row."""
    labels = np.asarray(labels, dtype=np.int64)
    return np.full(n, int(labels)) if labels.ndim == 0 else labels


def _check_eps(eps: float) -> float:
    eps = float(eps)
    if not np.isfinite(eps) or eps < 0:
        raise ValueError(f"eps must be a number >= 0; got {eps}")
    return eps


def project(x_adv: np.ndarray, x: np.ndarray, eps: float) -> np.ndarray:
    """Clip x_adv (n, d) into the eps-box around x and into [0, 1], in place; returns it."""
    np.clip(x_adv, x - eps, x + eps, out=x_adv)
    np.clip(x_adv, 0.0, 1.0, out=x_adv)
    return x_adv


def fgsm(model: MLP, x: np.ndarray, labels, eps: float) -> np.ndarray:
    """Fast gradient sign method: x + eps * sign(dL/dx), clipped to [0, 1]. x (n, d) -> (n, d)."""
    eps = _check_eps(eps)
    x = np.asarray(x, dtype=model.dtype)
    g = model.input_gradient(x, _labels(labels, len(x)))
    return project(x + eps * np.sign(g), x, eps)


def pgd(model: MLP, x: np.ndarray, labels, eps: float, step: float | None = None, steps: int = 20,
        random_start: bool = True, rng: np.random.Generator | None = None,
        targeted: bool = False) -> np.ndarray:
    """Projected gradient descent (iterative FGSM) in the L-infinity eps-box. x (n, d) -> (n, d).

    Untargeted: climbs the loss of `labels` (the true classes). targeted=True: `labels` are the
    classes the network should say, and the attack descends their loss. step defaults to
    2.5 * eps / steps (Madry et al.), so the walk can reach any corner of the box.
    """
    eps = _check_eps(eps)
    if steps < 1:
        raise ValueError(f"steps must be at least 1; got {steps}")
    step = 2.5 * eps / steps if step is None else float(step)
    x = np.asarray(x, dtype=model.dtype)
    labels = _labels(labels, len(x))
    x_adv = x.copy()
    if random_start and eps > 0:
        rng = rng if rng is not None else np.random.default_rng()
        x_adv += rng.uniform(-eps, eps, x.shape).astype(x.dtype)
        project(x_adv, x, eps)
    direction = -1.0 if targeted else 1.0
    for _ in range(steps):
        g = model.input_gradient(x_adv, labels)
        x_adv += (direction * step) * np.sign(g)
        project(x_adv, x, eps)
    return x_adv


def targeted(model: MLP, x: np.ndarray, target, eps: float, step: float | None = None, steps: int = 40,
             random_start: bool = False, rng: np.random.Generator | None = None) -> np.ndarray:
    """Iterative signed steps that make the network say `target` (int or (n,)); within eps."""
    return pgd(model, x, target, eps, step, steps, random_start, rng, targeted=True)


def random_noise(x: np.ndarray, eps: float, rng: np.random.Generator) -> np.ndarray:
    """The control: x + eps * random signs (same L-infinity size as FGSM), clipped to [0, 1]."""
    eps = _check_eps(eps)
    x = np.asarray(x)
    signs = rng.integers(0, 2, x.shape).astype(x.dtype) * 2 - 1
    return project(x + eps * signs, x, eps)


@dataclass(frozen=True)
class FoolingResult:
    images: np.ndarray  # (n, d) in [0, 1]
    probs: np.ndarray  # (n,) probability of each row's target class at the end
    steps: np.ndarray  # (n,) steps each row needed (max_steps if it never got there)
    reached: np.ndarray  # (n,) bool: probability > confidence


def fooling_images(model: MLP, targets, start: str = "blank", n: int | None = None,
                   rng: np.random.Generator | None = None, step: float = 0.01, max_steps: int = 500,
                   confidence: float = 0.99) -> FoolingResult:
    """Images the network is over `confidence` sure show digit targets[i], though none is there.

    Starts from a blank (all black) or uniform-noise image and takes signed steps up the log
    probability of the target class (bounded to [0, 1], no eps), stopping each row as soon as it
    passes `confidence`. targets: int (with n rows) or (n,) ints.
    """
    if start not in ("blank", "noise"):
        raise ValueError(f"start must be 'blank' or 'noise'; got {start!r}")
    targets = np.asarray(targets, dtype=np.int64)
    if targets.ndim == 0:
        targets = np.full(n or 1, int(targets))
    shape = (len(targets), model.sizes[0])
    if start == "blank":
        x = np.zeros(shape, dtype=model.dtype)
    else:
        rng = rng if rng is not None else np.random.default_rng()
        x = rng.uniform(0, 1, shape).astype(model.dtype)
    rows = np.arange(len(targets))
    used = np.full(len(targets), max_steps)
    active = np.ones(len(targets), dtype=bool)
    for k in range(max_steps + 1):
        p = model.predict_proba(x)[rows, targets]
        done = active & (p > confidence)
        used[done] = k
        active &= ~done
        if not active.any() or k == max_steps:
            break
        g = model.input_gradient(x[active], targets[active])  # d(-log p_target)/dx
        x[active] = np.clip(x[active] - step * np.sign(g), 0.0, 1.0)
    p = model.predict_proba(x)[rows, targets]
    return FoolingResult(x, p, used, p > confidence)


# ----- one image, everything the page shows -------------------------------------------------
@dataclass(frozen=True)
class AttackOutcome:
    """One attacked image and its control. Images (d,), probabilities (k,)."""

    x: np.ndarray
    x_adv: np.ndarray
    x_noise: np.ndarray
    label: int  # the class the attack pushes away from (true label, or the model's answer)
    target: int | None  # targeted attacks: the class it pushes towards
    probs_before: np.ndarray
    probs_after: np.ndarray
    probs_noise: np.ndarray

    @property
    def perturbation(self) -> np.ndarray:
        return self.x_adv - self.x

    @property
    def linf(self) -> float:
        return float(np.abs(self.perturbation).max())

    @property
    def l2(self) -> float:
        return float(np.linalg.norm(self.perturbation.astype(np.float64)))

    @property
    def pred_before(self) -> int:
        return int(self.probs_before.argmax())

    @property
    def pred_after(self) -> int:
        return int(self.probs_after.argmax())

    @property
    def pred_noise(self) -> int:
        return int(self.probs_noise.argmax())

    @property
    def fooled(self) -> bool:
        """Untargeted: the answer left `label`. Targeted: the answer is `target` (a class other than label)."""
        if self.target is not None:
            return self.target != self.label and self.pred_after == self.target
        return self.pred_after != self.label


def attack_one(model: MLP, x: np.ndarray, label: int, method: str = "fgsm", eps: float = 0.1,
               steps: int = 20, step: float | None = None, random_start: bool = False,
               target: int | None = None, seed: int = 0) -> AttackOutcome:
    """Attack one image x (d,) with `method` in METHODS and add the same-size random-noise control."""
    if method not in METHODS:
        raise ValueError(f"unknown attack {method!r}; choose from {', '.join(METHODS)}")
    if method == "targeted" and target is None:
        raise ValueError("a targeted attack needs a target class")
    rng = np.random.default_rng(seed)
    x1 = np.asarray(x, dtype=model.dtype).reshape(1, -1)
    if method == "fgsm":
        adv = fgsm(model, x1, [label], eps)
    elif method == "pgd":
        adv = pgd(model, x1, [label], eps, step, steps, random_start, rng)
    else:
        adv = targeted(model, x1, [target], eps, step, steps, random_start, rng)
    noise = random_noise(x1, eps, rng)
    p = model.predict_proba(np.concatenate([x1, adv, noise]))
    return AttackOutcome(x1[0], adv[0], noise[0], int(label), target if method == "targeted" else None,
                         p[0], p[1], p[2])


# ----- robustness curves --------------------------------------------------------------------
@dataclass(frozen=True)
class RobustnessCurve:
    """Accuracy against eps for each attack. acc[method] has one value per eps."""

    eps: np.ndarray
    acc: dict[str, np.ndarray]
    n: dict[str, int]  # how many held-out digits each method was measured on
    pgd_steps: int = 10


def attack_accuracy(model: MLP, x: np.ndarray, y: np.ndarray, method: str, eps: float,
                    steps: int = 10, step: float | None = None, rng: np.random.Generator | None = None,
                    chunk: int = 2000) -> float:
    """Accuracy (0-1) on x (n, d), y (n,) after attacking every row ('fgsm', 'pgd' or 'noise')."""
    rng = rng if rng is not None else np.random.default_rng(0)
    correct = 0
    for i in range(0, len(x), chunk):
        xb, yb = np.asarray(x[i:i + chunk], dtype=model.dtype), y[i:i + chunk]
        if method == "fgsm":
            adv = fgsm(model, xb, yb, eps)
        elif method == "pgd":
            adv = pgd(model, xb, yb, eps, step, steps, True, rng)
        elif method == "noise":
            adv = random_noise(xb, eps, rng)
        else:
            raise ValueError(f"unknown method {method!r}; choose fgsm, pgd or noise")
        correct += int((model.predict(adv) == yb).sum())
    return correct / max(len(x), 1)


def robustness_curve(model: MLP, x: np.ndarray, y: np.ndarray, eps_values: Sequence[float],
                     methods: Sequence[str] = ("fgsm", "pgd", "noise"), pgd_steps: int = 10,
                     pgd_limit: int | None = 500, seed: int = 0) -> RobustnessCurve:
    """Held-out accuracy for each eps and method. PGD runs on the first pgd_limit rows only (speed)."""
    eps = np.asarray(eps_values, dtype=np.float64)
    acc, n = {}, {}
    for m in methods:
        rows = slice(None, pgd_limit) if m == "pgd" and pgd_limit else slice(None)
        xm, ym = x[rows], y[rows]
        rng = np.random.default_rng(seed)
        acc[m] = np.array([attack_accuracy(model, xm, ym, m, e, steps=pgd_steps, rng=rng) for e in eps])
        n[m] = len(xm)
    return RobustnessCurve(eps, acc, n, pgd_steps)


# ----- why it works: the template network ----------------------------------------------------
def is_template_network(model: MLP) -> bool:
    """No hidden layer, softmax + cross-entropy: each class's weight column is a 'template'."""
    return len(model.weights) == 1 and model.arch.output == "softmax" and model.arch.loss == "cross_entropy"


@dataclass(frozen=True)
class TemplateExplanation:
    """For one image x of class `label` under a template network. All pictures (d,)."""

    label: int
    runner_up: int
    probs: np.ndarray  # (k,)
    gradient: np.ndarray  # dL/dx = sum_k p_k w_k - w_label
    w_label: np.ndarray
    w_runner_up: np.ndarray
    sign_agreement: float  # fraction of pixels where sign(gradient) == sign(w_runner_up - w_label)

    @property
    def template_difference(self) -> np.ndarray:
        return self.w_runner_up - self.w_label


def template_explanation(model: MLP, x: np.ndarray, label: int) -> TemplateExplanation:
    """The FGSM direction of a template network written out in its weights (x (d,))."""
    if not is_template_network(model):
        raise ValueError("this explanation needs a network without hidden layers (softmax, cross-entropy)")
    x1 = np.asarray(x, dtype=model.dtype).reshape(1, -1)
    p = model.predict_proba(x1)[0]
    w = model.weights[0]  # (d, k): column k is class k's template
    grad = p @ w.T - w[:, label]  # identical to model.input_gradient(x1, [label])[0]
    others = p.copy()
    others[label] = -1
    r = int(others.argmax())
    diff = w[:, r] - w[:, label]
    nonzero = (grad != 0) | (diff != 0)
    agree = float((np.sign(grad) == np.sign(diff))[nonzero].mean()) if nonzero.any() else 1.0
    return TemplateExplanation(int(label), r, p, grad, w[:, label].copy(), w[:, r].copy(), agree)


def train_template_model(data: Dataset, epochs: int = 5, seed: int = 0) -> TrainedModel:
    """784 -> 10 softmax (no hidden layer) on `data`; about a second on the bundled digits."""
    rng = np.random.default_rng(seed)
    model = MLP.create((data.x_train.shape[1], data.n_classes), "relu", "softmax", "cross_entropy",
                       "glorot", rng)
    trainer = Trainer(model, data, TrainConfig("momentum", 0.05, 32), rng)
    for stats in trainer.epochs(epochs):
        pass
    return TrainedModel(model, stats.test_acc, f"template network [784, 10], {epochs} epochs")


# ----- defence: adversarial training ---------------------------------------------------------
def fgsm_augment(model: MLP, eps: float, fraction: float = 0.5,
                 rng: np.random.Generator | None = None) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """A Trainer `augment` hook: replaces `fraction` of each mini-batch by its FGSM version.

    The FGSM images are made against the model as it is at that step, so the network keeps
    meeting its own current worst case. yb is one-hot (b, k).
    """
    eps = _check_eps(eps)
    rng = rng if rng is not None else np.random.default_rng(0)

    def augment(xb: np.ndarray, yb: np.ndarray) -> np.ndarray:
        m = int(round(fraction * len(xb)))
        if m == 0:
            return xb
        rows = rng.choice(len(xb), m, replace=False)
        xb[rows] = fgsm(model, xb[rows], yb[rows].argmax(axis=1), eps)
        return xb

    return augment


def adversarial_trainer(like: MLP, data: Dataset, eps: float, config: TrainConfig = TrainConfig("momentum", 0.05, 32),
                        fraction: float = 0.5, seed: int = 0) -> Trainer:
    """A Trainer for a fresh network with `like`'s architecture, FGSM examples mixed into each batch."""
    rng = np.random.default_rng(seed)
    a = like.arch
    model = MLP.create(a.sizes, a.activation, a.output, a.loss, "he" if a.activation == "relu" else "glorot", rng)
    return Trainer(model, data, config, rng, augment=fgsm_augment(model, eps, fraction, rng))


def train_adversarially(like: MLP, data: Dataset, eps: float = 0.1, epochs: int = 8,
                        fraction: float = 0.5, seed: int = 0,
                        on_epoch: Callable[[EpochStats], None] | None = None) -> TrainedModel:
    """Train `like`'s architecture afresh with FGSM(eps) examples mixed in; returns the result."""
    trainer = adversarial_trainer(like, data, eps, fraction=fraction, seed=seed)
    for stats in trainer.epochs(epochs):
        if on_epoch is not None:
            on_epoch(stats)
    sizes = list(like.sizes)
    return TrainedModel(trainer.model, stats.test_acc,
                        f"adversarially trained {sizes}, FGSM eps {eps:g} on {fraction:.0%} of each batch, "
                        f"{epochs} epochs")
