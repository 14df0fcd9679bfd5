"""The engine's fast paths compute the same numbers as the plain formulas: column-wise softmax and
bias for tall, narrow arrays (a decision-boundary grid), reused forward buffers, a shared model
used from several threads at once (the default digit model on a server)."""
import threading

import numpy as np
import pytest

from nnviz.engine import functions as F
from nnviz.engine.model import MLP


def _plain_forward(model, x, apply_output=True):
    """Layer by layer with fresh arrays and the textbook softmax: what the fast paths must equal."""
    acts = [x]
    for l, (w, b) in enumerate(zip(model.weights, model.biases)):
        z = acts[-1] @ w + b
        if l < len(model.weights) - 1:
            z = F.activate(model.arch.activation, z)
        elif apply_output and model.arch.output == "softmax":
            e = np.exp(z - z.max(axis=1, keepdims=True))
            z = e / e.sum(axis=1, keepdims=True)
        elif apply_output:
            z = F.output(model.arch.output, z)
        acts.append(z)
    return acts


@pytest.mark.parametrize("rows", [1, 63, 128, 129, 1000, 40_001])
@pytest.mark.parametrize("cols", [1, 2, 3, 8, 10, 100])
@pytest.mark.parametrize("spread", [3, 30])  # within and beyond F.SHIFT_SPAN for most batches
def test_add_bias_and_softmax_match_the_plain_formulas(rows, cols, spread):
    rng = np.random.default_rng(rows * cols)
    z = (rng.standard_normal((rows, cols)) * spread).astype(np.float32)
    b = rng.standard_normal(cols).astype(np.float32)
    np.testing.assert_allclose(F.add_bias(z.copy(), b), z + b, rtol=1e-6)
    z64 = z.astype(np.float64)
    e = np.exp(z64 - z64.max(axis=1, keepdims=True))
    np.testing.assert_allclose(F.output("softmax", z.copy()), e / e.sum(axis=1, keepdims=True), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("low", [-F.SHIFT_SPAN + 1, -F.SHIFT_SPAN - 1, -200.0, -1e30])
def test_softmax_of_a_batch_whose_rows_lie_far_apart(low):
    """One shift for the whole batch while its span stays under SHIFT_SPAN, each row's own beyond:
    a row far below the others still gets its own probabilities, never 0/0."""
    rng = np.random.default_rng(1)
    z = rng.uniform(-0.5, 0.5, (32, 10)).astype(np.float32)
    z[5] += np.float32(low)
    z64 = z.astype(np.float64)
    e = np.exp(z64 - z64.max(axis=1, keepdims=True))
    p = F.output("softmax", z.copy())
    np.testing.assert_allclose(p, e / e.sum(axis=1, keepdims=True), rtol=1e-5, atol=1e-7)
    assert np.isfinite(p).all() and (p > 0).all()


def test_softmax_of_a_batch_keeps_nan_and_inf_in_their_rows():
    z = np.zeros((32, 10), np.float32)
    z[3, 4] = np.nan
    z[9, 2] = np.inf
    with np.errstate(invalid="ignore"):
        p = F.output("softmax", z)
    assert np.isnan(p[3]).all() and np.isnan(p[9]).all()
    np.testing.assert_allclose(np.delete(p, [3, 9], axis=0), 0.1, rtol=1e-6)


def test_softmax_tall_path_keeps_nan_visible():
    z = np.zeros((4000, 2), np.float32)
    z[17, 1] = np.nan
    with np.errstate(invalid="ignore"):
        p = F.output("softmax", z)
    assert np.isnan(p[17]).all() and np.isfinite(np.delete(p, 17, axis=0)).all()
    for row in ([np.nan, 1.0, 2.0], [1.0, np.nan], [np.inf, 1.0]):  # one example takes another path
        with np.errstate(invalid="ignore"):
            assert np.isnan(F.output("softmax", np.array([row], np.float32))).all()
    np.testing.assert_array_equal(F.output("softmax", np.array([[-np.inf, 1.0, 1e4]], np.float32)), [[0, 0, 1]])


@pytest.mark.parametrize("sizes,activation,output", [([2, 8, 8, 2], "tanh", "softmax"), ([2, 8, 8, 3], "relu", "softmax"),
                                                     ([2, 5, 1], "sigmoid", "sigmoid"), ([3, 4, 2], "leaky_relu", "linear")])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_equals_plain_layers_for_every_batch_size(sizes, activation, output, dtype):
    rng = np.random.default_rng(0)
    loss = "quadratic" if output == "linear" else "cross_entropy"
    model = MLP.create(sizes, activation, output, loss, "normal", rng, dtype)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    for rows in (1, 7, 3000, 40_000, 2048):  # small, reused buffers, a smaller batch in the same buffers
        x = (rng.standard_normal((rows, sizes[0])) * 2).astype(dtype)
        plain = _plain_forward(model, x)
        probs = model.forward(x)
        np.testing.assert_allclose(probs, plain[-1], **tol)
        np.testing.assert_allclose(model.logits(x), _plain_forward(model, x, apply_output=False)[-1], **tol)
        for a, p in zip(model.forward(x, all_layers=True), plain):
            np.testing.assert_allclose(a, p, **tol)
        again = model.forward(x)
        assert not np.shares_memory(again, probs)  # what a caller holds is never overwritten
        np.testing.assert_array_equal(again, probs)


def test_shared_model_from_many_threads():
    rng = np.random.default_rng(1)
    model = MLP.create([2, 8, 8, 2], "tanh", rng=rng)
    inputs = [rng.standard_normal((n, 2)).astype(np.float32) for n in (40_000, 5_000, 20_000, 1)]
    expected = [_plain_forward(model, x)[-1] for x in inputs]
    errors = []

    def work(i):
        for _ in range(15):
            got = model.forward(inputs[i % len(inputs)])
            if not np.allclose(got, expected[i % len(inputs)], rtol=1e-5, atol=1e-6):
                errors.append(i)

    workers = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    assert errors == []


def test_model_still_deep_copies():
    """The buffers' lock is left out of the copy (deepcopy goes through __getstate__)."""
    import copy
    model = MLP.create([2, 8, 2], "tanh", rng=np.random.default_rng(2))
    x = np.random.default_rng(3).standard_normal((30_000, 2)).astype(np.float32)
    p = model.forward(x)
    clone = copy.deepcopy(model)
    np.testing.assert_array_equal(clone.forward(x), p)
    assert clone._scratch_lock is not model._scratch_lock


@pytest.mark.parametrize("activation,output,loss", [("relu", "softmax", "cross_entropy"),
                                                    ("sigmoid", "sigmoid", "quadratic"),
                                                    ("tanh", "softmax", "quadratic")])
@pytest.mark.parametrize("l1,l2", [(0.0, 0.0), (1e-3, 0.0), (0.0, 1e-2), (1e-3, 1e-2)])
@pytest.mark.parametrize("sizes,dtype,rtol", [([6, 5, 4, 3], np.float64, 1e-12),
                                              ([200, 100, 10], np.float64, 1e-12),
                                              ([200, 100, 10], np.float32, 1e-5)])
def test_fused_sgd_step_is_gradients_then_sgd(activation, output, loss, l1, l2, sizes, dtype, rtol):
    """MLP.sgd_step (the Trainer's path for plain SGD) moves every parameter exactly as gradients()
    followed by optimizers.SGD does; gradients() itself is checked against finite differences in
    test_model.py. A 200 x 100 layer is big enough for blas.add_product_tn, the others are not."""
    from nnviz.engine.optimizers import SGD
    rng = np.random.default_rng(4)
    a = MLP.create(sizes, activation, output, loss, "normal", rng, dtype)
    start = a.copy()
    b = a.copy()
    x = rng.standard_normal((7, sizes[0])).astype(dtype)
    y = a.targets(rng.integers(0, sizes[-1], 7))
    for _ in range(3):
        g = a.gradients(x, y, l1, l2)
        SGD(0.3).step(a.params(), g.weights + g.biases)
        assert b.sgd_step(x, y, 0.3, l1, l2)
        for p, q in zip(a.params(), b.params()):
            np.testing.assert_allclose(q, p, rtol=rtol, atol=rtol)
    assert not np.allclose(b.weights[0], start.weights[0])  # the steps did move the network


def test_fused_sgd_step_touches_nothing_when_the_gradient_is_not_finite():
    model = MLP.create([4, 3, 2], "relu", rng=np.random.default_rng(5), dtype=np.float64)
    before = [p.copy() for p in model.params()]
    x = np.full((2, 4), 1e300)
    with np.errstate(all="ignore"):
        assert not model.sgd_step(x * 1e10, model.targets(np.array([0, 1])), 0.1)
    for p, q in zip(before, model.params()):
        np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("output", ["softmax", "sigmoid", "linear"])
def test_one_example_takes_its_own_path_to_the_same_numbers(output):
    rng = np.random.default_rng(6)
    loss = "quadratic" if output == "linear" else "cross_entropy"
    model = MLP.create([784, 30, 10], "relu", output, loss, "he", rng)
    x = rng.random((1, 784), dtype=np.float32)
    np.testing.assert_allclose(model.forward(x), _plain_forward(model, x)[-1], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(model.logits(x), _plain_forward(model, x, False)[-1], rtol=1e-5, atol=1e-6)
    assert model.forward(x).shape == (1, 10) and model.predict(x).shape == (1,)


@pytest.mark.parametrize("shift", [0.0, -6.5, -40.0, -300.0, 60.0, 88.0, 120.0, 1e30])
@pytest.mark.parametrize("width", [1, 2, 10, 32])
def test_softmax_of_one_row_at_any_height(shift, width):
    """One example (unshifted while the exps stay in range, else shifted) equals the textbook
    softmax in float64, wherever its logits lie: overflow, underflow, a single class."""
    rng = np.random.default_rng(width)
    logits = (rng.standard_normal((1, width)) * 4 + shift).astype(np.float32)
    plain = np.exp(logits.astype(np.float64) - logits.max())
    want = plain / plain.sum()
    got = F.output("softmax", logits.copy())
    assert got.dtype == np.float32 and got.shape == (1, width)
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-30)


def test_softmax_of_one_row_keeps_nan_visible():
    for bad in (np.nan, np.inf):
        z = np.array([[1.0, bad, 2.0]], dtype=np.float32)
        assert np.isnan(F.output("softmax", z)).any()
