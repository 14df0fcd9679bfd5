"""Backpropagation on one training example, every number kept: the /learn page's step-by-step
view and `python -m nnviz backprop` both print what this computes.

The numbers are the engine's own (MLP.trace runs MLP.gradients and keeps its buffers); this
module only adds the presets, a finite-difference check and the update. Notation: the engine
stores W_l as (n_in, n_out), so Nielsen's w^l_jk (from neuron k of layer l-1 to neuron j of
layer l) is W_l[k, j]. All in float64 so that Mazur's figures come out to 8 decimal places.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnviz.data.toy import moons
from nnviz.engine import functions as F
from nnviz.engine.model import MLP, Architecture, Gradients, Trace
from nnviz.engine.optimizers import SGD

MAX_HIDDEN_LAYERS, MAX_WIDTH = 2, 4  # "your own": up to 2-4-4-2, so every number fits a slide


@dataclass(frozen=True)
class Example:
    """A network and one training example: x (1, n_in), target y (1, n_out), learning rate eta.
    update_biases False keeps the biases fixed (Mazur updates only the weights)."""

    name: str
    model: MLP
    x: np.ndarray
    y: np.ndarray
    eta: float
    update_biases: bool = True
    source: str = ""


def mazur() -> Example:
    """Matt Mazur's "A Step by Step Backpropagation Example" (2015): 2-2-2 sigmoid, quadratic
    cost E = sum 1/2 (target - out)^2, one bias per layer shared by its two neurons, eta 0.5.
    His w1..w4 go into the hidden layer (w1: i1->h1, w2: i2->h1, w3: i1->h2, w4: i2->h2), w5..w8
    into the output layer in the same pattern."""
    w1 = np.array([[0.15, 0.25], [0.20, 0.30]])  # rows: from i1, i2; columns: to h1, h2
    w2 = np.array([[0.40, 0.50], [0.45, 0.55]])  # rows: from h1, h2; columns: to o1, o2
    model = MLP(Architecture((2, 2, 2), "sigmoid", "sigmoid", "quadratic"),
                [w1, w2], [np.full(2, 0.35), np.full(2, 0.60)])
    return Example("mazur", model, np.array([[0.05, 0.10]]), np.array([[0.01, 0.99]]), 0.5,
                   update_biases=False,
                   source="Matt Mazur, \"A Step by Step Backpropagation Example\" (2015)")


def notebook() -> Example:
    """The talk notebook's network: 2-3-2 tanh with a softmax output and cross-entropy, on one
    point of the two moons (noise 0.2, data seed 0), Glorot weights from seed 0, eta 0.1."""
    x, labels = moons(200, 0.2, np.random.default_rng(0))
    model = MLP.create((2, 3, 2), "tanh", "softmax", "cross_entropy", init="glorot",
                       rng=np.random.default_rng(0), dtype=np.float64)
    return Example("notebook", model, x[:1].astype(np.float64), model.targets(labels[:1]), 0.1,
                   source="2-3-2 tanh + softmax on one point of the two moons")


def custom(hidden: tuple[int, ...], activation: str = "sigmoid", loss: str = "quadratic",
           seed: int = 0, eta: float = 0.5) -> Example:
    """Your own sizes (2, hidden..., 2), at most MAX_HIDDEN_LAYERS layers of MAX_WIDTH neurons;
    quadratic cost with sigmoid outputs or cross-entropy with softmax (the Playground's pairs).
    Random N(0, 1) weights and biases from seed; one moons point (seed) as the example."""
    hidden = tuple(int(h) for h in hidden)
    if len(hidden) > MAX_HIDDEN_LAYERS or any(not 1 <= h <= MAX_WIDTH for h in hidden):
        raise ValueError(f"up to {MAX_HIDDEN_LAYERS} hidden layers of 1 to {MAX_WIDTH} neurons; got {hidden}")
    output = "softmax" if loss == "cross_entropy" else "sigmoid"
    rng = np.random.default_rng(seed)
    model = MLP.create((2, *hidden, 2), activation, output, loss, init="normal", rng=rng, dtype=np.float64)
    x, labels = moons(50, 0.2, np.random.default_rng(seed))
    return Example("custom", model, x[:1].astype(np.float64), model.targets(labels[:1]), float(eta),
                   source=f"2-{'-'.join(map(str, hidden))}-2 {activation}" if hidden else "2-2")


PRESETS = {"mazur": mazur, "notebook": notebook}


def cost(model: MLP, x: np.ndarray, y: np.ndarray) -> float:
    """The engine's cost of targets y (batch, n_out) (any numbers, not only one-hot), batch mean."""
    z = model.logits(x).astype(np.float64)
    return float(F.loss_per_example(model.arch.output, model.arch.loss, z, y).mean())


def numerical_gradients(model: MLP, x: np.ndarray, y: np.ndarray, h: float = 1e-6) -> Gradients:
    """Central differences (C(p + h) - C(p - h)) / 2h for every weight and bias, one at a time."""
    m = model.astype(np.float64)
    out = Gradients([np.zeros_like(w) for w in m.weights], [np.zeros_like(b) for b in m.biases])
    for params, grads in ((m.weights, out.weights), (m.biases, out.biases)):
        for p, g in zip(params, grads):
            for i in np.ndindex(p.shape):
                keep = p[i]
                p[i] = keep + h
                up = cost(m, x, y)
                p[i] = keep - h
                down = cost(m, x, y)
                p[i] = keep
                g[i] = (up - down) / (2 * h)
    return out


@dataclass(frozen=True)
class BackpropStep:
    """One example through the network and one update: trace (z, a, delta, grads per layer),
    numeric (the same gradients by finite differences), the cost before and after, and the
    updated model."""

    example: Example
    trace: Trace
    numeric: Gradients
    cost_before: float
    cost_after: float
    after: MLP


def backprop_step(example: Example) -> BackpropStep:
    """Forward, backward, and one step of gradient descent p <- p - eta dC/dp (the engine's SGD)."""
    model = example.model
    trace = model.trace(example.x, example.y)
    after = model.copy()
    params, grads = after.weights, trace.grads.weights
    if example.update_biases:
        params, grads = after.params(), [*trace.grads.weights, *trace.grads.biases]
    SGD(example.eta).step(params, grads)
    return BackpropStep(example, trace, numerical_gradients(model, example.x, example.y),
                        cost(model, example.x, example.y), cost(after, example.x, example.y), after)


def as_dict(step: BackpropStep) -> dict:
    """The step as plain lists (one entry per layer; weights (n_in, n_out) like the engine)."""
    t, ex = step.trace, step.example
    rows = lambda arrays: [a[0].tolist() for a in arrays]  # noqa: E731 (one example: its row)
    return {"example": ex.name, "sizes": list(ex.model.sizes), "activation": ex.model.arch.activation,
            "output": ex.model.arch.output, "loss": ex.model.arch.loss, "eta": ex.eta,
            "update_biases": ex.update_biases, "x": ex.x[0].tolist(), "y": ex.y[0].tolist(),
            "z": rows(t.z), "a": rows(t.a), "delta": rows(t.delta),
            "grad_w": [g.tolist() for g in t.grads.weights], "grad_b": [g.tolist() for g in t.grads.biases],
            "numeric_grad_w": [g.tolist() for g in step.numeric.weights],
            "cost_before": step.cost_before, "cost_after": step.cost_after,
            "weights_after": [w.tolist() for w in step.after.weights],
            "biases_after": [b.tolist() for b in step.after.biases]}


def neuron(x: np.ndarray, w1: float, w2: float, b: float, activation: str) -> np.ndarray:
    """One neuron a = f(w1 x1 + w2 x2 + b) at points x (n, 2) -> (n,), with the engine's f."""
    z = np.asarray(x, dtype=np.float64) @ np.array([[w1], [w2]], dtype=np.float64)
    return F.activate(activation, F.add_bias(z, np.array([b], dtype=np.float64)))[:, 0]
