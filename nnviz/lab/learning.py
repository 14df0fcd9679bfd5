"""Is the network learning? One rule for the MNIST page, the Playground and `python -m nnviz train`.

A network that has stopped learning usually says nothing: its accuracy sits at chance, epoch after
epoch. `diagnose` tells it apart from a slow start and says why, in words for the user:

- at chance: no better than always answering the most common class (plus a tenth of the way to
  100%: 19% for ten balanced digits, 55% for two balanced classes);
- failed: at chance AND a reason why more epochs cannot help: the loss is not finite; nearly every
  hidden ReLU is dead (zero for every input), or every one of a layer (no gradient passes it); nearly
  every hidden sigmoid/tanh or output value is
  pinned at its limit, where the gradient vanishes. (A loss above the starting one is told too, but
  is no proof on its own: on a small set it bounces back.);
- still at chance, with no such reason, after a few thousand training examples: perhaps the
  learning rate is too small (a warning, not a failure).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnviz.engine.model import MLP

CHANCE_MARGIN = 0.1  # "at chance": below chance + this share of the way from chance to 100%
# ... and once "still at chance" is said, it takes this share to unsay it: a run hovering at the line
# (a deep net on the spiral, 55-72% right from one frame to the next) would flash it on and off.
LEAVE_MARGIN = 0.2
STUCK_FRACTION = 0.95  # this share of neurons dead or saturated: the gradient has vanished
PATIENCE_EXAMPLES = 5_000  # training examples seen before "still at chance" is worth a word
SATURATION = 0.01  # within this of a sigmoid's 0 or 1 (tanh: of -1 or 1)


@dataclass(frozen=True)
class Verdict:
    """failed: it cannot recover by training on. message: for the user, None while it learns."""

    failed: bool
    at_chance: bool
    reasons: tuple[str, ...]
    message: str | None


def chance_level(y: np.ndarray, n_classes: int) -> float:
    """The accuracy of always answering the most common class of labels y (n,)."""
    y = np.asarray(y, dtype=np.int64)
    if len(y) == 0:
        return 1.0 / n_classes
    return max(1.0 / n_classes, float(np.bincount(y, minlength=n_classes).max() / len(y)))


def dead_fraction(model: MLP, x: np.ndarray) -> float:
    """Share of ReLU hidden neurons that are zero on every row of x (0 for other activations)."""
    if model.arch.activation != "relu" or len(model.weights) < 2:
        return 0.0
    with np.errstate(all="ignore"):
        acts = model.forward(x, all_layers=True)[1:-1]
    return float(np.concatenate([a.max(axis=0) <= 0 for a in acts]).mean())


def dead_layer(model: MLP, x: np.ndarray) -> int | None:
    """The first hidden ReLU layer (1-based) whose every neuron is zero on every row of x, else None.
    No gradient passes it, so the layers below never change and the output is one constant."""
    if model.arch.activation != "relu" or len(model.weights) < 2:
        return None
    with np.errstate(all="ignore"):
        acts = model.forward(x, all_layers=True)[1:-1]
    return next((k for k, a in enumerate(acts, 1) if (a.max(axis=0) <= 0).all()), None)


def saturated_hidden(model: MLP, x: np.ndarray) -> float:
    """Share of sigmoid/tanh hidden activations pinned at a limit over the rows of x (0 otherwise)."""
    act = model.arch.activation
    if act not in ("sigmoid", "tanh") or len(model.weights) < 2:
        return 0.0
    with np.errstate(all="ignore"):
        acts = np.concatenate([a.ravel() for a in model.forward(x, all_layers=True)[1:-1]])
    limit = np.abs(acts) if act == "tanh" else np.maximum(acts, 1 - acts)  # distance from the middle
    return float(((limit > 1 - SATURATION) | ~np.isfinite(acts)).mean())


def saturated_outputs(model: MLP, x: np.ndarray) -> float:
    """Share of output values pinned within SATURATION of 0 or 1 over the rows of x."""
    with np.errstate(all="ignore"):
        p = model.forward(x)
    return float(((p < SATURATION) | (p > 1 - SATURATION) | ~np.isfinite(p)).mean())


def diagnose(model: MLP, x_sample: np.ndarray, y_reference: np.ndarray, accuracy: float, loss: float,
             initial_loss: float, epoch: int, examples_per_epoch: int, lr: float,
             remedy: str = "Press Reset and lower it.", recent_best: float | None = None,
             was_at_chance: bool = False) -> Verdict:
    """Whether training is getting anywhere, after `epoch` epochs.

    x_sample: a few hundred inputs (m, n_in) to look at the neurons; y_reference: the labels (n,)
    the accuracy is measured on (for the chance level); accuracy and loss: the latest epoch's
    (held-out accuracy where there is a test set); initial_loss: the untrained network's loss;
    remedy: what the user can do about a learning rate that is too large, in their own terms.
    "Still at chance" (the soft word) judges the best of accuracy and recent_best (the best of the
    last few epochs, when given), and once the verdict before was at chance (was_at_chance), it
    takes LEAVE_MARGIN to leave. "Failed" judges the latest accuracy alone: a dead network cannot
    recover, however well it did a moment ago.
    """
    n_classes = model.sizes[-1]
    chance = chance_level(y_reference, n_classes)
    at_chance_now = not accuracy >= chance + CHANCE_MARGIN * (1 - chance)  # NaN counts as at chance
    best = accuracy if recent_best is None else max(recent_best, accuracy)  # NaN now: the recent best
    at_chance = not best >= chance + (LEAVE_MARGIN if was_at_chance else CHANCE_MARGIN) * (1 - chance)
    reasons = []  # why more epochs cannot help
    if not np.isfinite(loss):
        reasons.append(f"the loss is {loss}")
    dead = dead_fraction(model, x_sample)
    if dead >= STUCK_FRACTION:
        reasons.append(f"{dead:.0%} of the hidden ReLU neurons are dead (zero for every input)")
    elif (layer := dead_layer(model, x_sample)) is not None:
        reasons.append(f"every ReLU neuron of hidden layer {layer} is dead (zero for every input), so no "
                       "gradient passes it and the answer is the same for every point")
    hidden = saturated_hidden(model, x_sample)
    if hidden >= STUCK_FRACTION:
        reasons.append(f"{hidden:.0%} of the hidden {model.arch.activation} values are pinned at their "
                       "limits, where the gradient vanishes")
    out = saturated_outputs(model, x_sample)
    if out >= STUCK_FRACTION:
        reasons.append(f"{out:.0%} of the output values are stuck at 0 or 1, where the gradient vanishes")
    failed = at_chance_now and bool(reasons)
    if failed and loss > initial_loss:  # alone no proof (small sets bounce back), but it tells the story
        reasons.insert(0, f"the loss went up from {initial_loss:.3g} to {loss:.3g}")
    where = f"after {epoch} epoch{'s' if epoch != 1 else ''}"
    score = (f"{accuracy:.0%} right, where always giving the most common answer gets {chance:.0%}"
             if np.isfinite(accuracy) else "no accuracy to measure")
    if failed:
        message = (f"Not learning: {where} the network is at chance level ({score}) and cannot recover, "
                   f"because {' and '.join(reasons)}. The learning rate {lr:g} is too large for this "
                   f"network: the steps overshoot. {remedy}")
    elif at_chance and epoch * examples_per_epoch >= PATIENCE_EXAMPLES:
        message = (f"Still at chance level {where} ({score}): the learning rate {lr:g} may be too "
                   f"small, or the network needs more epochs.")
    else:
        message = None
    return Verdict(failed, at_chance or failed, tuple(reasons), message)
