"""The engine's maths, checked against float64 central finite differences, plus shapes and initialisers."""
import numpy as np
import pytest

from nnviz.engine.functions import HIDDEN_ACTIVATIONS
from nnviz.engine.model import MLP

# Every (output, loss) pairing the engine accepts (cross_entropy needs probabilities).
PAIRINGS = [("softmax", "cross_entropy"), ("sigmoid", "cross_entropy"),
            ("softmax", "quadratic"), ("sigmoid", "quadratic"), ("linear", "quadratic")]
REGULARISERS = {"none": (0.0, 0.0), "l1": (0.03, 0.0), "l2": (0.0, 0.05)}
EPS = 1e-6


def _net(activation, output, loss, sizes=(3, 5, 4, 3), seed=0):
    rng = np.random.default_rng(seed)
    model = MLP.create(sizes, activation, output, loss, "normal", rng, dtype=np.float64)
    x = rng.standard_normal((7, sizes[0]))
    labels = rng.integers(0, sizes[-1], 7)
    return model, x, labels


def _numeric_param_grad(model, x, labels, l1, l2):
    """Central differences of model.loss over every weight and bias, in params() order."""
    grads = []
    for p in model.params():
        g = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + EPS
            up = model.loss(x, labels, l1, l2)
            p[idx] = old - EPS
            down = model.loss(x, labels, l1, l2)
            p[idx] = old
            g[idx] = (up - down) / (2 * EPS)
        grads.append(g)
    return grads


@pytest.mark.parametrize("reg", REGULARISERS)
@pytest.mark.parametrize("output,loss", PAIRINGS)
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_parameter_gradients_match_finite_differences(activation, output, loss, reg):
    l1, l2 = REGULARISERS[reg]
    model, x, labels = _net(activation, output, loss)
    g = model.gradients(x, model.targets(labels), l1, l2)
    analytic = [a.copy() for a in g.weights + g.biases]
    numeric = _numeric_param_grad(model, x, labels, l1, l2)
    for a, n in zip(analytic, numeric):
        np.testing.assert_allclose(a, n, rtol=1e-5, atol=1e-7)


def test_single_sigmoid_output_binary_gradients():
    """One sigmoid output with 0/1 labels (a yes/no network) is checked too."""
    for loss in ("cross_entropy", "quadratic"):
        model, x, _ = _net("tanh", "sigmoid", loss, sizes=(2, 4, 1))
        labels = np.array([0, 1, 1, 0, 1, 0, 0])
        g = model.gradients(x, model.targets(labels), 0.0, 0.01)
        numeric = _numeric_param_grad(model, x, labels, 0.0, 0.01)
        for a, n in zip(g.weights + g.biases, numeric):
            np.testing.assert_allclose(a, n, rtol=1e-5, atol=1e-7)


def test_gradient_buffers_are_reused_but_values_are_fresh():
    """gradients() reuses its buffers: a second call with other data must overwrite them fully."""
    model, x, labels = _net("relu", "softmax", "cross_entropy")
    first = model.gradients(x, model.targets(labels))
    first_w0 = first.weights[0].copy()
    second = model.gradients(x[::-1].copy() * 2, model.targets(labels[::-1]))
    assert second.weights[0] is first.weights[0]
    assert not np.allclose(second.weights[0], first_w0)
    again = model.gradients(x, model.targets(labels))
    np.testing.assert_allclose(again.weights[0], first_w0, rtol=1e-12)


@pytest.mark.parametrize("output,loss", PAIRINGS)
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_input_gradient_is_each_rows_own_loss_gradient(activation, output, loss):
    model, x, labels = _net(activation, output, loss)
    analytic = model.input_gradient(x, labels)
    assert analytic.shape == x.shape
    numeric = np.zeros_like(x)
    for i, j in np.ndindex(x.shape):
        row = x[i:i + 1].copy()
        row[0, j] += EPS
        up = model.loss(row, labels[i:i + 1])
        row[0, j] -= 2 * EPS
        down = model.loss(row, labels[i:i + 1])
        numeric[i, j] = (up - down) / (2 * EPS)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_logit_gradient_matches_finite_differences(activation):
    model, x, _ = _net(activation, "softmax", "cross_entropy")
    for cls in range(model.sizes[-1]):
        analytic = model.logit_gradient(x, cls)
        numeric = np.zeros_like(x)
        for j in range(x.shape[1]):
            up, down = x.copy(), x.copy()
            up[:, j] += EPS
            down[:, j] -= EPS
            numeric[:, j] = (model.logits(up)[:, cls] - model.logits(down)[:, cls]) / (2 * EPS)
        np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)


def test_cross_entropy_is_stable_for_huge_logits():
    """Fused softmax + cross-entropy: no overflow, no NaN, even with logits in the thousands."""
    model, x, labels = _net("linear", "softmax", "cross_entropy", sizes=(3, 3))
    model.weights[0] *= 1e4
    loss = model.loss(x, labels)
    assert np.isfinite(loss) and loss > 0
    g = model.gradients(x, model.targets(labels))
    assert all(np.isfinite(a).all() for a in g.weights + g.biases)
    assert np.isfinite(model.forward(x)).all()


def test_forward_all_layers_shapes_and_consistency():
    sizes = (6, 5, 4, 3)
    model, x, _ = _net("tanh", "softmax", "cross_entropy", sizes=sizes)
    acts = model.forward(x, all_layers=True)
    assert [a.shape for a in acts] == [(7, n) for n in sizes]
    np.testing.assert_array_equal(acts[0], x)
    np.testing.assert_allclose(acts[-1], model.forward(x))
    np.testing.assert_allclose(acts[-1].sum(axis=1), 1.0)
    assert np.abs(acts[1]).max() <= 1.0  # tanh
    np.testing.assert_allclose(acts[1], np.tanh(x @ model.weights[0] + model.biases[0]))
    assert model.predict(x).shape == (7,)
    assert model.logits(x).shape == (7, 3)


def test_forward_rejects_wrong_input_width():
    model, x, _ = _net("relu", "softmax", "cross_entropy")
    with pytest.raises(ValueError, match="shape"):
        model.forward(x[:, :2])


def test_float32_is_the_default_and_stays_float32():
    model = MLP.create((4, 3, 2), rng=np.random.default_rng(0))
    assert model.dtype == np.float32
    x = np.random.default_rng(1).standard_normal((5, 4))  # float64 in
    assert model.forward(x).dtype == np.float32
    assert all(g.dtype == np.float32 for g in model.gradients(x.astype(np.float32), model.targets([0, 1, 0, 1, 1])).weights)


@pytest.mark.parametrize("init", ["normal", "glorot", "he"])
def test_same_seed_same_weights(init):
    a = MLP.create((10, 8, 3), "relu", init=init, rng=np.random.default_rng(42))
    b = MLP.create((10, 8, 3), "relu", init=init, rng=np.random.default_rng(42))
    c = MLP.create((10, 8, 3), "relu", init=init, rng=np.random.default_rng(43))
    for pa, pb, pc in zip(a.params(), b.params(), c.params()):
        np.testing.assert_array_equal(pa, pb)
    assert not all(np.array_equal(pa, pc) for pa, pc in zip(a.params(), c.params()))


N_IN, N_OUT = 400, 300  # 120,000 weights: sample statistics within ~1% of the truth


def _layer(init):
    m = MLP.create((N_IN, N_OUT), init=init, rng=np.random.default_rng(7), dtype=np.float64)
    return m.weights[0], m.biases[0]


def test_normal_init_is_nielsens_standard_normal():
    w, b = _layer("normal")
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1.0) < 0.01
    assert abs(b.mean()) < 0.2 and abs(b.std() - 1.0) < 0.15  # 300 biases, also N(0, 1)


def test_glorot_init_is_uniform_with_glorot_variance():
    w, b = _layer("glorot")
    limit = np.sqrt(6.0 / (N_IN + N_OUT))
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit
    assert abs(w.var() / (2.0 / (N_IN + N_OUT)) - 1.0) < 0.02
    # uniform, not normal: a flat histogram over [-limit, limit]
    hist, _ = np.histogram(w, bins=10, range=(-limit, limit))
    assert hist.min() > 0.9 * hist.mean()
    assert not b.any()


def test_he_init_has_variance_two_over_fan_in():
    w, b = _layer("he")
    assert abs(w.mean()) < 0.01 * np.sqrt(2.0 / N_IN)
    assert abs(w.var() / (2.0 / N_IN) - 1.0) < 0.02
    assert not b.any()


@pytest.mark.parametrize("bad", [dict(init="xavier"), dict(activation="swish"), dict(output="tanh"),
                                 dict(loss="hinge"), dict(output="linear", loss="cross_entropy")])
def test_bad_configuration_is_a_clear_value_error(bad):
    kwargs = dict(sizes=(2, 3, 2), rng=np.random.default_rng(0)) | bad
    with pytest.raises(ValueError, match=r"unknown|needs"):
        MLP.create(**kwargs)


def test_copy_is_independent():
    model, _, _ = _net("relu", "softmax", "cross_entropy")
    twin = model.copy()
    twin.weights[0][0, 0] += 1.0
    assert twin.weights[0][0, 0] != model.weights[0][0, 0]
    assert all(np.array_equal(a, b) for a, b in zip(model.biases, twin.biases))
