"""What a digit classifier has learnt, and where it fails: pure NumPy, no UI.

- Templates: for a network with no hidden layer, the weights into output neuron c, W[:, c]
  (784,), are the network's picture of digit c: its score is the dot product of the image with
  this picture. With hidden layers there is no such single picture; the *effective template*
  of c is the gradient of c's score (logit z_c) with respect to the input pixels, at the mean
  training image: how much each pixel, inked a little more, raises the score of c. For a
  network without hidden layer it is exactly W[:, c], so both pictures mean the same thing.
- First-layer weight images: W_1[:, j] (784,) for hidden neuron j, the pattern it responds to.
- Confusion matrix and the most confident mistakes. (Whether it is still learning at all:
  nnviz/lab/learning.py.)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnviz.engine.model import MLP


def output_templates(model: MLP) -> np.ndarray:
    """Weights into each output neuron of a network with no hidden layer: (n_out, n_in)."""
    if len(model.weights) != 1:
        raise ValueError("output_templates needs a network with no hidden layer; use effective_templates")
    return np.asarray(model.weights[0], dtype=np.float64).T.copy()


def effective_templates(model: MLP, x_at: np.ndarray) -> np.ndarray:
    """d z_c / d x for every class c, averaged over the rows of x_at: (n_out, n_in).

    x_at: (n_in,) or (m, n_in), the point(s) where the gradient is taken (the page uses the mean
    training image). For a network with no hidden layer the result is W.T whatever x_at is.
    """
    x = np.atleast_2d(np.asarray(x_at, dtype=model.dtype))
    with np.errstate(all="ignore"):
        rows = [model.logit_gradient(x, c).astype(np.float64).mean(axis=0) for c in range(model.sizes[-1])]
    return np.nan_to_num(np.stack(rows), nan=0.0, posinf=0.0, neginf=0.0)


def first_layer_images(model: MLP, limit: int | None = None) -> np.ndarray:
    """Weights into the first `limit` neurons of the first layer, one row each: (k, n_in)."""
    w = np.asarray(model.weights[0], dtype=np.float64).T  # (n_out_1, n_in)
    return w[:limit].copy() if limit is not None else w.copy()


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """counts[t, p] = how many examples of true class t were predicted as p: (k, k) int64."""
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts


@dataclass(frozen=True)
class Mistakes:
    """The wrongly classified examples, most confident first (all arrays (k,))."""

    index: np.ndarray  # row in the evaluated set
    true: np.ndarray
    predicted: np.ndarray
    confidence: np.ndarray  # probability the network gave its (wrong) answer


def confident_mistakes(probs: np.ndarray, y_true: np.ndarray, limit: int = 10) -> Mistakes:
    """The `limit` wrong predictions with the highest predicted probability. probs: (n, k)."""
    probs = np.asarray(probs, dtype=np.float64)
    y_true = np.asarray(y_true, dtype=np.int64)
    pred = probs.argmax(axis=1)
    conf = probs[np.arange(len(probs)), pred]
    wrong = np.flatnonzero(pred != y_true)
    order = wrong[np.argsort(-conf[wrong], kind="stable")][:limit]
    return Mistakes(order, y_true[order], pred[order], conf[order])
