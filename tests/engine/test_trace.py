"""MLP.trace: every layer's z, a, delta and gradient of one example, against finite differences
for every hidden activation and every output/loss pairing, in float64."""
import itertools

import numpy as np
import pytest

from nnviz.engine import functions as F
from nnviz.engine.model import MLP
from nnviz.lab.backprop import cost, numerical_gradients

PAIRS = [("softmax", "cross_entropy"), ("sigmoid", "cross_entropy"), ("softmax", "quadratic"),
         ("sigmoid", "quadratic"), ("linear", "quadratic")]


def _model(activation, output, loss, seed=0):
    rng = np.random.default_rng(seed)
    model = MLP.create((2, 4, 3, 2), activation, output, loss, init="normal", rng=rng, dtype=np.float64)
    x = rng.uniform(-1.5, 1.5, (1, 2))
    if activation in ("relu", "leaky_relu"):  # keep every z clear of the kink at 0
        for l, (w, b) in enumerate(zip(model.weights, model.biases)):
            z = model.trace(x, np.zeros((1, 2))).z[l][0]
            b[np.abs(z) < 1e-3] += 0.1
    y = np.array([[0.2, 0.8]]) if output != "softmax" else np.array([[0.0, 1.0]])
    return model, x, y


@pytest.mark.parametrize("activation,pair", list(itertools.product(F.HIDDEN_ACTIVATIONS, PAIRS)))
def test_trace_gradients_match_finite_differences(activation, pair):
    model, x, y = _model(activation, *pair)
    t = model.trace(x, y)
    num = numerical_gradients(model, x, y)
    for analytic, numeric in zip([*t.grads.weights, *t.grads.biases], [*num.weights, *num.biases]):
        np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)
    # delta of each layer is dC/dz: nudge one z of the last hidden layer by hand and compare.
    l = len(model.weights) - 2
    h = 1e-6
    a_prev = t.a[l - 1]

    def cost_from_z(zl):
        a = F.activate(activation, zl.copy())
        zo = F.add_bias(a @ model.weights[l + 1], model.biases[l + 1])
        return float(F.loss_per_example(model.arch.output, model.arch.loss, zo, y).mean())

    for j in range(model.sizes[l + 1]):
        e = np.zeros_like(t.z[l])
        e[0, j] = h
        numeric = (cost_from_z(t.z[l] + e) - cost_from_z(t.z[l] - e)) / (2 * h)
        assert t.delta[l][0, j] == pytest.approx(numeric, rel=1e-5, abs=1e-9)
    np.testing.assert_allclose(t.z[l], a_prev @ model.weights[l] + model.biases[l])


@pytest.mark.parametrize("activation", F.HIDDEN_ACTIVATIONS)
def test_trace_keeps_z_and_a_consistent_and_the_output_is_the_forward_pass(activation):
    model, x, y = _model(activation, "softmax", "cross_entropy", seed=3)
    t = model.trace(x, y)
    for l in range(len(model.weights) - 1):
        np.testing.assert_allclose(t.a[l], F.activate(activation, t.z[l].copy()))
    np.testing.assert_allclose(t.a[-1], model.forward(x))
    np.testing.assert_allclose(t.delta[-1], t.a[-1] - y)  # softmax + cross-entropy: a - y
    assert cost(model, x, y) == pytest.approx(model.loss(x, np.array([1])))
    # Copies, not the engine's reused buffers: a second trace does not change the first.
    before = [d.copy() for d in t.delta]
    model.trace(x + 1.0, y)
    for d, kept in zip(t.delta, before):
        np.testing.assert_array_equal(d, kept)
