"""Each optimiser's steps against the textbook formulas, computed here by hand in float64."""
import numpy as np
import pytest

from nnviz.engine import optimizers
from nnviz.engine.optimizers import FLUSH_EVERY, SGD, Adam, Momentum, make_optimizer

P0 = np.array([[0.5, -1.0], [2.0, 0.25]])
G1 = np.array([[0.1, -0.2], [0.3, 0.0]])
G2 = np.array([[-0.4, 0.5], [0.05, 1.0]])
B0, GB1, GB2 = np.array([1.0, -2.0]), np.array([0.5, 0.5]), np.array([-1.0, 0.25])


def _params():
    return [P0.copy(), B0.copy()]


def test_sgd_one_step_and_lr_change():
    params = _params()
    opt = SGD(0.1)
    opt.step(params, [G1, GB1])
    np.testing.assert_allclose(params[0], P0 - 0.1 * G1, rtol=0, atol=1e-15)
    np.testing.assert_allclose(params[1], B0 - 0.1 * GB1, rtol=0, atol=1e-15)
    opt.lr = 0.5  # a schedule or a slider changes it between steps
    opt.step(params, [G2, GB2])
    np.testing.assert_allclose(params[0], P0 - 0.1 * G1 - 0.5 * G2, rtol=0, atol=1e-15)


def test_momentum_two_steps_by_hand():
    params = _params()
    opt = Momentum(0.1, mu=0.9)
    opt.step(params, [G1, GB1])
    v1 = -0.1 * G1  # v starts at zero
    np.testing.assert_allclose(params[0], P0 + v1, atol=1e-15)
    opt.lr = 0.2
    opt.step(params, [G2, GB2])
    v2 = 0.9 * v1 - 0.2 * G2
    np.testing.assert_allclose(params[0], P0 + v1 + v2, atol=1e-15)
    vb2 = 0.9 * (-0.1 * GB1) - 0.2 * GB2
    np.testing.assert_allclose(params[1], B0 - 0.1 * GB1 + vb2, atol=1e-15)


def test_adam_two_steps_against_kingma_and_ba():
    """Algorithm 1 of the paper, with explicit bias-corrected m_hat and v_hat."""
    b1, b2, eps = 0.9, 0.999, 1e-8
    params = _params()
    opt = Adam(0.01)
    p, m, v = P0.copy(), np.zeros_like(P0), np.zeros_like(P0)
    for t, (g, gb, lr) in enumerate([(G1, GB1, 0.01), (G2, GB2, 0.003)], start=1):
        opt.lr = lr
        opt.step(params, [g, gb])
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        np.testing.assert_allclose(params[0], p, rtol=1e-12, atol=1e-15)
    # First step of Adam moves every parameter with a nonzero gradient by about lr, whatever its scale.
    params = _params()
    Adam(0.01).step(params, [G1 * 1000, GB1])
    moved = np.abs(params[0] - P0)[G1 != 0]
    np.testing.assert_allclose(moved, 0.01, rtol=1e-6)


def test_optimisers_update_in_place():
    params = _params()
    ids = [id(a) for a in params]
    for name in ("sgd", "momentum", "adam"):
        make_optimizer(name, 0.1).step(params, [G1, GB1])
    assert [id(a) for a in params] == ids
    assert not np.array_equal(params[0], P0)


@pytest.mark.parametrize("name,lr", [("rmsprop", 0.1), ("sgd", 0.0), ("adam", -1.0), ("sgd", float("nan"))])
def test_make_optimizer_rejects_bad_names_and_rates(name, lr):
    with pytest.raises(ValueError, match="unknown optimizer|positive"):
        make_optimizer(name, lr)


SMALLEST_NORMAL = np.finfo(np.float32).tiny


def _subnormal(arrays) -> int:
    return sum(int(((a != 0) & (np.abs(a) < SMALLEST_NORMAL)).sum()) for a in arrays)


def _train_with_dead_pixels(name: str, steps: int = 2500):
    """A weight matrix whose first half has a zero data gradient (pixels off in every digit): for
    Adam, with weight decay (gradient 1e-3 w) from the start; for Momentum, without, after 5 live
    steps (its velocity then decays). Yields (step, optimiser, weights, the dead half)."""
    decay, live_steps = (np.float32(1e-3), 0) if name == "adam" else (np.float32(0), 5)
    rng = np.random.default_rng(0)
    w = (rng.standard_normal((50, 20)) * 0.05).astype(np.float32)
    dead = np.zeros_like(w, dtype=bool)
    dead[:25] = True
    opt = make_optimizer(name, 1e-3)
    for t in range(steps):
        g = (rng.standard_normal(w.shape) * 1e-2).astype(np.float32)
        if t >= live_steps:
            g[dead] = 0
        g += decay * w
        opt.step([w], [g])
        yield t, opt, w, dead


def _state(opt) -> list:
    return opt.velocity if isinstance(opt, Momentum) else opt.m + opt.v


@pytest.mark.parametrize("name", ["momentum", "adam"])
def test_no_subnormals_where_gradients_vanish(name):
    """Where a gradient is zero, Momentum's velocity and Adam's moments decay geometrically, and
    with weight decay Adam drives the weight itself down ~10% a step. Left alone, they reach
    float32's subnormals (below 1.2e-38), each of which slows every product it enters ~30x; the
    optimiser zeroes them first."""
    for t, opt, w, dead in _train_with_dead_pixels(name):
        if t % FLUSH_EVERY == FLUSH_EVERY - 1:  # right after a flush
            assert _subnormal(_state(opt) + [w]) == 0, t
    assert np.isfinite(w).all()
    moments = opt.velocity if name == "momentum" else opt.m
    assert (moments[0][dead] == 0).all()  # gone to exact zero, not lingering as subnormals
    assert (moments[0][~dead] != 0).all()  # the live ones untouched
    if name == "adam":
        assert (w[dead] == 0).all()


@pytest.mark.parametrize("name", ["momentum", "adam"])
def test_without_the_flush_the_same_training_reaches_subnormals(name, monkeypatch):
    """The test above can fail: with the flush switched off, the same steps leave subnormals."""
    monkeypatch.setattr(optimizers, "FLUSH_EVERY", 10**9)
    seen = max(_subnormal(_state(opt) + [w]) for t, opt, w, dead in _train_with_dead_pixels(name))
    assert seen > 0
