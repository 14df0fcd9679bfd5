"""The 2-D toy sets: shapes, classes, determinism, and that each one is learnable by a suitable network.

Test accuracies at seed 0 with the networks below (400 points, half held out; spirals 600 points,
noise 0.05; softmax + cross-entropy, Adam), measured when this test was written:

    gauss    no hidden layer (logistic regression), 20 epochs   0.990
    moons    [2, 8, 2] tanh, 40 epochs                          0.950
    circles  [2, 8, 2] tanh, 40 epochs                          0.965
    xor      [2, 8, 2] tanh, 40 epochs                          0.945
    blobs    [2, 8, 4] tanh, 20 epochs                          0.920
    spiral   [2, 32, 32, 2] relu, 150 epochs                    1.000
    spiral3  [2, 32, 32, 3] relu, 150 epochs                    0.990

(seeds 0-4 of the spirals: 0.997-1.000 and 0.953-0.990). Without a hidden layer (a straight line,
the seed notebook's first step) moons reach 0.860 but xor stays at 0.515 and circles at 0.305.
"""
import numpy as np
import pytest

from nnviz.data.toy import EXTENT, GENERATORS, N_CLASSES, make_dataset, train_test_split
from nnviz.engine.model import MLP
from nnviz.engine.training import TrainConfig, Trainer

# name -> (hidden sizes, activation, epochs, points, noise, minimum test accuracy at seed 0)
LEARNABLE = {
    "gauss": ((), "tanh", 20, 400, 0.2, 0.95),
    "moons": ((8,), "tanh", 40, 400, 0.2, 0.92),
    "circles": ((8,), "tanh", 40, 400, 0.2, 0.90),
    "xor": ((8,), "tanh", 40, 400, 0.2, 0.90),
    "blobs": ((8,), "tanh", 20, 400, 0.2, 0.88),
    "spiral": ((32, 32), "relu", 150, 600, 0.05, 0.95),
    "spiral3": ((32, 32), "relu", 150, 600, 0.05, 0.93),
}


def _train(name, hidden, activation, epochs, points, noise, seed=0):
    rng = np.random.default_rng(seed)
    data = make_dataset(name, points, noise, 0.5, rng)
    init = "he" if activation == "relu" else "glorot"
    model = MLP.create((2, *hidden, N_CLASSES[name]), activation, "softmax", "cross_entropy", init, rng)
    lr = 0.02 if hidden else 0.1
    trainer = Trainer(model, data, TrainConfig("adam", lr, 32 if len(hidden) > 1 else 10), rng)
    *_, last = trainer.epochs(epochs)
    return last


def test_every_generator_is_covered():
    assert set(LEARNABLE) == set(GENERATORS) == set(N_CLASSES)
    assert max(N_CLASSES.values()) >= 3


@pytest.mark.parametrize("name", LEARNABLE)
def test_each_dataset_is_learnable(name):
    *config, minimum = LEARNABLE[name]
    stats = _train(name, *config)
    assert stats.test_acc >= minimum, f"{name}: test accuracy {stats.test_acc:.3f} < {minimum}"


@pytest.mark.parametrize("name", ["xor", "circles"])
def test_a_straight_line_cannot_separate_xor_or_circles(name):
    stats = _train(name, (), "tanh", 20, 400, 0.2)
    assert stats.test_acc < 0.7


@pytest.mark.parametrize("name", GENERATORS)
def test_shapes_classes_and_extent(name):
    x, y = GENERATORS[name](203, 0.1, np.random.default_rng(1))
    assert x.shape == (203, 2) and x.dtype == np.float32
    assert y.shape == (203,) and y.dtype == np.int64
    k = N_CLASSES[name]
    counts = np.bincount(y, minlength=k)
    assert len(counts) == k and counts.min() >= 203 // k * 0.6  # every class present, none starved
    assert np.abs(x).max() < EXTENT + 0.5  # plots show [-EXTENT, EXTENT]^2
    assert np.mean(np.abs(x) <= EXTENT) > 0.97


@pytest.mark.parametrize("name", GENERATORS)
def test_the_plot_shows_nearly_every_point_at_the_default_noise(name):
    """A point outside [-EXTENT, EXTENT]^2 is cut off at the plot's edge: on the projector, the
    default moons showed half dots along the sides when 4.5% of them lay outside."""
    x = np.concatenate([GENERATORS[name](300, 0.2, np.random.default_rng(s))[0] for s in range(20)])
    assert np.mean((np.abs(x) <= EXTENT).all(axis=1)) > 0.985


@pytest.mark.parametrize("name", GENERATORS)
def test_same_seed_same_points(name):
    a = GENERATORS[name](50, 0.2, np.random.default_rng(3))
    b = GENERATORS[name](50, 0.2, np.random.default_rng(3))
    c = GENERATORS[name](50, 0.2, np.random.default_rng(4))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_noise_zero_is_clean_and_noise_moves_points():
    clean, _ = GENERATORS["moons"](100, 0.0, np.random.default_rng(0))
    noisy, _ = GENERATORS["moons"](100, 0.3, np.random.default_rng(0))
    assert not np.allclose(np.sort(clean, axis=0), np.sort(noisy, axis=0), atol=0.05)
    # Clean moons lie exactly on two unit half circles.
    r_outer = np.hypot(clean[:, 0] + 0.5, clean[:, 1] + 0.25)
    r_inner = np.hypot(clean[:, 0] - 0.5, clean[:, 1] - 0.25)
    assert np.allclose(np.minimum(np.abs(r_outer - 1), np.abs(r_inner - 1)), 0, atol=1e-5)


def test_make_dataset_split_and_errors():
    d = make_dataset("spiral3", 200, 0.1, 0.25, np.random.default_rng(0))
    assert (len(d.x_train), len(d.x_test)) == (150, 50) and d.n_classes == 3 and d.name == "spiral3"
    assert len(np.unique(np.r_[d.x_train, d.x_test], axis=0)) == 200  # a partition, nothing duplicated
    with pytest.raises(ValueError, match="unknown dataset"):
        make_dataset("swiss_roll")
    with pytest.raises(ValueError, match="at least 4"):
        make_dataset("moons", 3)
    with pytest.raises(ValueError, match="noise"):
        make_dataset("moons", 100, -0.1)
    with pytest.raises(ValueError, match="test_ratio"):
        train_test_split(d.x_train, d.y_train, 0.95, np.random.default_rng(0))


# ----- the seed notebook: make_moons(200, noise=0.2), a 2-3-2 tanh softmax net, full-batch GD ---------
def _sklearn_moons(n, noise, rs: np.random.RandomState):
    """sklearn's make_moons algorithm on a legacy RandomState: the notebook's exact 200 points."""
    n_out, n_in = n // 2, n - n // 2
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    x = np.c_[np.r_[np.cos(t_out), 1 - np.cos(t_in)], np.r_[np.sin(t_out), 1 - np.sin(t_in) - 0.5]]
    y = np.r_[np.zeros(n_out, int), np.ones(n_in, int)]
    order = np.arange(n)
    rs.shuffle(order)
    return x[order] + rs.normal(scale=noise, size=x.shape), y[order]


def test_seed_notebook_moons_in_our_mean_convention():
    """The notebook sums the loss over the 200 points: lr 0.01 and L2 0.01 on the sum. Ours is a mean,
    so the same run is lr = 0.01 * N = 2.0 and l2 = 0.01 / N (the notebook prints the mean).

    Same data and initial weights as the notebook (np.random.seed(0) before each), float64.
    Measured: loss 0.432387 after 1 step and 0.068947 after 1,001, exactly the notebook's printed
    "iteration 0" and "iteration 1000" figures, and equal (to 1e-7) to the notebook's loop rebuilt
    below; training accuracy 0.975. Later full-batch GD sits at the edge of stability: a period-2
    oscillation between 0.07076 and 0.07132, where rounding picks the phase. The notebook prints
    0.070758 from iteration 9000 on; our engine after 20,000 passes: 0.070758 too. So the seed's
    "about 0.067" is really 0.0689 at its best (iterations 1000-2000) and 0.0708 at the end.
    """
    from nnviz.engine.model import Architecture
    from nnviz.engine.optimizers import SGD

    x, y = _sklearn_moons(200, 0.2, np.random.RandomState(0))
    rs = np.random.RandomState(0)
    w1, w2 = rs.randn(2, 3) / np.sqrt(2), rs.randn(3, 2) / np.sqrt(3)
    n, lr, reg = len(x), 0.01, 0.01

    # The notebook's loop (summed gradients), written out again as the reference.
    W1, b1, W2, b2 = w1.copy(), np.zeros(3), w2.copy(), np.zeros(2)

    def notebook_loss():
        z = np.tanh(x @ W1 + b1) @ W2 + b2
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        return (-np.log(p[np.arange(n), y]).sum() + reg / 2 * ((W1 ** 2).sum() + (W2 ** 2).sum())) / n

    model = MLP(Architecture((2, 3, 2), "tanh", "softmax", "cross_entropy"), [w1.copy(), w2.copy()],
                [np.zeros(3), np.zeros(2)])
    opt, targets = SGD(lr * n), model.targets(y)
    for step in range(1, 1002):
        a1 = np.tanh(x @ W1 + b1)
        z = a1 @ W2 + b2
        d3 = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        d3[np.arange(n), y] -= 1
        d2 = d3 @ W2.T * (1 - a1 ** 2)
        W2 -= lr * (a1.T @ d3 + reg * W2)
        b2 -= lr * d3.sum(axis=0)
        W1 -= lr * (x.T @ d2 + reg * W1)
        b1 -= lr * d2.sum(axis=0)

        g = model.gradients(x, targets, 0.0, reg / n)
        opt.step(model.params(), g.weights + g.biases)
        if step in (1, 501, 1001):
            assert model.loss(x, y, 0.0, reg / n) == pytest.approx(notebook_loss(), rel=1e-7)
        if step == 1:
            assert model.loss(x, y, 0.0, reg / n) == pytest.approx(0.432387, abs=1e-6)
    assert model.loss(x, y, 0.0, reg / n) == pytest.approx(0.068947, abs=1e-6)
    assert (model.predict(x) == y).mean() >= 0.97
