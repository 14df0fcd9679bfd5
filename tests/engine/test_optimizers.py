"""Each optimiser's steps against the textbook formulas, computed here by hand in float64."""
import numpy as np
import pytest

from nnviz.engine.optimizers import SGD, Adam, Momentum, make_optimizer

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
