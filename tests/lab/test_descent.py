"""Gradient descent on surfaces whose answer theory knows: a quadratic bowl converges where the
eigenvalues say, and diverges for eta > 2 / lambda_max; the moons neuron's surface and gradient."""
import numpy as np
import pytest

from nnviz.lab.descent import MODELS, NeuronOnMoons, descend, make

# A tilted elliptic bowl f(w) = 1/2 (w - c)^T A (w - c): eigenvalues 4 and 0.5 along rotated axes.
ROT = np.array([[np.cos(0.6), -np.sin(0.6)], [np.sin(0.6), np.cos(0.6)]])
LAMBDAS = np.array([4.0, 0.5])
A = ROT @ np.diag(LAMBDAS) @ ROT.T
C = np.array([1.0, -2.0])


def f(w):
    d = w - C
    return float(0.5 * d @ A @ d)


def grad(w):
    return A @ (w - C)


@pytest.mark.parametrize("eta", [0.05, 0.3, 0.49])  # 2 / lambda_max = 0.5
def test_plain_descent_on_a_bowl_follows_the_theory_step_by_step(eta):
    start = np.array([-2.0, 3.0])
    path = descend(grad, f, start, make("sgd", eta), 60)
    assert not path.diverged and len(path.points) == 61
    # Along each eigenvector the error shrinks by exactly (1 - eta lambda_i) per step.
    k = np.arange(61)[:, None]
    expected = C + ((start - C) @ ROT * (1 - eta * LAMBDAS) ** k) @ ROT.T
    np.testing.assert_allclose(path.points, expected, atol=1e-9)
    rate = np.abs(1 - eta * LAMBDAS).max()
    assert np.linalg.norm(path.points[-1] - C) <= rate ** 60 * np.linalg.norm(start - C) + 1e-12


def test_plain_descent_diverges_just_above_2_over_lambda_max_with_a_message():
    path = descend(grad, f, [-2.0, 3.0], make("sgd", 0.51), 500)
    assert path.diverged.startswith("diverged after") and "learning rate is too large" in path.diverged
    assert path.cost[-1] > 100 * path.cost[0]
    assert np.isfinite(path.points).all()


@pytest.mark.parametrize("name,lr", [("momentum", 0.1), ("adam", 0.1)])
def test_momentum_and_adam_reach_the_bottom_of_the_bowl(name, lr):
    path = descend(grad, f, [-2.0, 3.0], make(name, lr), 400)
    assert not path.diverged
    np.testing.assert_allclose(path.points[-1], C, atol=0.05)


def test_the_linear_neuron_is_a_bowl_with_its_least_squares_minimum_and_its_stable_rate():
    m = NeuronOnMoons("linear")
    x, y, b = m.x, m.y[:, 0], m.model.biases[0][0]
    w_star = np.linalg.lstsq(x, y - b, rcond=None)[0]  # the minimum of 1/2N |x w + b - y|^2
    np.testing.assert_allclose(m.gradient(w_star), 0, atol=1e-12)
    lam_max = np.linalg.eigvalsh(x.T @ x / len(x)).max()
    assert m.stable_lr() == pytest.approx(2 / lam_max)
    below = descend(m.gradient, m.cost, (-2.5, 2.5), make("sgd", 0.95 * m.stable_lr()), 500)
    assert not below.diverged
    np.testing.assert_allclose(below.points[-1], w_star, atol=1e-4)
    above = descend(m.gradient, m.cost, (-2.5, 2.5), make("sgd", 1.05 * m.stable_lr()), 500)
    assert above.diverged


@pytest.mark.parametrize("kind", list(MODELS))
def test_the_surface_is_the_engines_cost_and_the_gradient_matches_finite_differences(kind):
    m = NeuronOnMoons(kind)
    s = m.surface(21)
    for i, j in [(0, 0), (7, 13), (20, 4)]:
        assert s.cost[i, j] == pytest.approx(m.cost(np.array([s.w1[j], s.w2[i]])), rel=1e-10)
    w, h = np.array([0.7, -1.3]), 1e-6
    numeric = [(m.cost(w + e) - m.cost(w - e)) / (2 * h) for e in np.eye(2) * h]
    np.testing.assert_allclose(m.gradient(w), numeric, rtol=1e-6)
    i, j = np.unravel_index(s.cost.argmin(), s.cost.shape)
    assert 0 < i < 20 and 0 < j < 20  # the minimum is inside the picture
