"""The bundled digits, and the seed's workload: Nielsen's network.py on them.

Seed workload: [784, 30, 10] sigmoid, sigmoid output, quadratic cost, N(0, 1) init, SGD with
batch 10 and eta 3.0, 5 epochs, one np.random.default_rng(seed) for the weights and the batch order.
Test accuracy after 5 epochs, measured when this test was written:
    seed 0: 0.8330, 0.8840, 0.9025, 0.9120, 0.9075 (epochs 1-5)
    seeds 0-9: median 0.9015, range 0.8085-0.9155 (the original network.py: median ~0.88, 0.79-0.90)
"""
import numpy as np
import pytest

from nnviz.data.mnist import load_bundled, load_bundled_raw, stratified_split
from nnviz.engine.model import MLP
from nnviz.engine.training import Dataset, TrainConfig, Trainer


def test_bundled_split_sizes_and_ranges():
    d = load_bundled()
    assert d.x_train.shape == (8000, 784) and d.x_test.shape == (2000, 784)
    assert d.y_train.shape == (8000,) and d.y_test.shape == (2000,) and d.n_classes == 10
    assert d.x_train.dtype == np.float32 and d.y_train.dtype == np.int64
    assert d.x_train.min() == 0.0 and d.x_train.max() == 1.0
    assert set(np.unique(d.y_train)) == set(range(10)) == set(np.unique(d.y_test))


def test_split_is_stratified_disjoint_and_complete():
    _, labels = load_bundled_raw()
    train, test = stratified_split(labels, 0.2, 0)
    assert len(train) == 8000 and len(test) == 2000
    assert len(np.union1d(train, test)) == 10000 and not np.intersect1d(train, test).size
    all_counts = np.bincount(labels, minlength=10)
    test_counts = np.bincount(labels[test], minlength=10)
    assert np.all(np.abs(test_counts - 0.2 * all_counts) <= 1)  # every digit in the same proportion


def test_split_is_deterministic():
    _, labels = load_bundled_raw()
    a, b = stratified_split(labels, 0.2, 0), stratified_split(labels, 0.2, 0)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], stratified_split(labels, 0.2, 1)[1])
    d = load_bundled()
    images, labels = load_bundled_raw()
    train, test = a
    np.testing.assert_array_equal(d.y_test, labels[test])
    np.testing.assert_array_equal(d.x_test[:5] * 255, images[test[:5]].reshape(5, 784).astype(np.float32))


def test_bundled_arrays_are_read_only():
    """Shared between every user of the app: nobody may write into them by accident."""
    d = load_bundled()
    for a in (d.x_train, d.y_train, d.x_test, d.y_test, *load_bundled_raw()):
        assert not a.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        d.x_train[0, 0] = 0.5


def _nielsen_step(model, x, labels, eta):
    """network.py's update_mini_batch, one example at a time with column vectors, in float64."""
    W = [w.T.copy() for w in model.weights]  # Nielsen's W is (n_out, n_in)
    B = [b.reshape(-1, 1).copy() for b in model.biases]
    sig = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731
    nabla_w = [np.zeros_like(w) for w in W]
    nabla_b = [np.zeros_like(b) for b in B]
    for xi, yi in zip(x, labels):
        a, acts, zs = xi.reshape(-1, 1), [xi.reshape(-1, 1)], []
        for w, b in zip(W, B):
            z = w @ a + b
            zs.append(z)
            a = sig(z)
            acts.append(a)
        y = np.zeros((10, 1))
        y[yi] = 1
        delta = (acts[-1] - y) * sig(zs[-1]) * (1 - sig(zs[-1]))
        nabla_b[-1] += delta
        nabla_w[-1] += delta @ acts[-2].T
        for l in range(2, len(W) + 1):
            delta = (W[-l + 1].T @ delta) * sig(zs[-l]) * (1 - sig(zs[-l]))
            nabla_b[-l] += delta
            nabla_w[-l] += delta @ acts[-l - 1].T
    m = len(x)
    return ([(w - eta / m * nw).T for w, nw in zip(W, nabla_w)],
            [(b - eta / m * nb).ravel() for b, nb in zip(B, nabla_b)])


def test_one_mini_batch_step_equals_nielsens_per_example_loop():
    d = load_bundled()
    rng = np.random.default_rng(0)
    model = MLP.create((784, 30, 10), "sigmoid", "sigmoid", "quadratic", "normal", rng, dtype=np.float64)
    x, y = d.x_train[:10].astype(np.float64), d.y_train[:10]
    want_w, want_b = _nielsen_step(model, x, y, 3.0)
    batch = Dataset(x, y, x[:0], y[:0], 10)  # ten examples, batch 10: one epoch is one step
    Trainer(model, batch, TrainConfig("sgd", 3.0, 10), rng).train_epoch()
    for got, want in zip(model.weights + model.biases, want_w + want_b):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


@pytest.mark.timeout(60)
def test_seed_workload_learns_like_network_py():
    rng = np.random.default_rng(0)
    model = MLP.create((784, 30, 10), "sigmoid", "sigmoid", "quadratic", "normal", rng)
    accs = [s.test_acc for s in Trainer(model, load_bundled(), TrainConfig("sgd", 3.0, 10), rng).epochs(5)]
    # Measured: 0.8330, 0.8840, 0.9025, 0.9120, 0.9075. The original's range over seeds is 0.79-0.90.
    assert accs[-1] >= 0.87
    assert accs[-1] > accs[0] + 0.03
