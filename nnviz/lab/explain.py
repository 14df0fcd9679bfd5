"""Why did the network say that? Per-pixel attributions for one digit (NumPy only).

For a class c with score (logit) z_c(x):
- gradient x input, x_i * dz_c/dx_i: which inked pixels pushed the score of c up (> 0) or down
  (< 0). For a network without hidden layers it is exactly x_i * W_ic, and the map sums to
  z_c - b_c; for a ReLU network without biases it also sums to z_c exactly.
- the template of c: what c "looks for" everywhere, ink or not. Without hidden layers that is the
  weight column W[:, c]; with hidden layers, the network's effective weights dz_c/dx, averaged
  over reference digits (the gradient at one digit is noisy; its mean over real digits is not).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnviz.engine.model import MLP


@dataclass(frozen=True)
class Explanation:
    """Everything the Draw page shows for one input. Arrays are (784,) or (n_classes,)."""

    probs: np.ndarray  # (n_classes,) softmax output
    predicted: int
    confidence: float  # probability of the predicted class
    runner_up: int  # the second most likely class
    attribution: np.ndarray  # (784,) gradient x input for the predicted class
    template: np.ndarray  # (784,) weight template of the predicted class


def gradient_x_input(model: MLP, x: np.ndarray, cls: int) -> np.ndarray:
    """x * dz_cls/dx for one input x (784,) -> (784,): positive pixels pushed for cls."""
    x = np.asarray(x, dtype=model.dtype).reshape(1, -1)
    return (x * model.logit_gradient(x, cls))[0]


def template(model: MLP, cls: int, reference: np.ndarray | None = None) -> np.ndarray:
    """The weight template of class cls (n_in,).

    No hidden layer: W[:, cls]. Otherwise dz_cls/dx averaged over `reference`, one input (n_in,)
    or several (k, n_in); without a reference, at the blank input. With several references, pixels
    none of them inks are set to 0: the network never learned anything there (its weights are
    still the random start), and showing that noise would mislead.
    """
    if len(model.weights) == 1:
        return np.asarray(model.weights[0][:, cls]).copy()
    ref = np.zeros((1, model.sizes[0]), model.dtype) if reference is None else reference
    ref = np.asarray(ref, model.dtype).reshape(-1, model.sizes[0])
    t = model.logit_gradient(ref, cls).mean(axis=0)
    if len(ref) > 1:
        t[ref.max(axis=0) <= 0] = 0.0
    return t


def explain(model: MLP, x: np.ndarray, reference: np.ndarray | None = None) -> Explanation:
    """Forward pass and both maps for the predicted class of one input x (784,)."""
    x = np.asarray(x, dtype=model.dtype).reshape(1, -1)
    probs = model.predict_proba(x)[0].astype(np.float64)
    order = np.argsort(-probs)
    c = int(order[0])
    return Explanation(probs=probs, predicted=c, confidence=float(probs[c]), runner_up=int(order[1]),
                       attribution=gradient_x_input(model, x[0], c), template=template(model, c, reference))


def certainty_words(p: float) -> str:
    """The probability of the predicted class in plain words."""
    if p >= 0.95:
        return "very sure"
    if p >= 0.80:
        return "fairly sure"
    if p >= 0.50:
        return "unsure"
    return "guessing"
