"""Adversarial attacks against real trained networks (no mocks): bounds, effect sizes, identities."""
import numpy as np
import pytest

from nnviz.data.mnist import load_bundled
from nnviz.engine import functions as F
from nnviz.engine.model import MLP
from nnviz.engine.threads import BlasLimit
from nnviz.engine.training import TrainConfig, Trainer
from nnviz.lab import attacks as A
from nnviz.lab.pretrained import train_default_model


@pytest.fixture(scope="module", autouse=True)
def one_blas_thread():
    """One BLAS thread: two, on cores other processes also use, can make a product 50x slower."""
    with BlasLimit(1):
        yield


@pytest.fixture(scope="module")
def data():
    return load_bundled()


@pytest.fixture(scope="module")
def mlp():
    return train_default_model().model  # [784, 100, 10] ReLU, ~95.7%


@pytest.fixture(scope="module")
def template(data):
    return A.train_template_model(data).model


def per_example_loss(model, x, y):
    return F.loss_per_example("softmax", "cross_entropy", model.logits(x).astype(np.float64), model.targets(y))


def assert_in_box(x_adv, x, eps):
    assert x_adv.shape == x.shape
    assert x_adv.min() >= 0.0 and x_adv.max() <= 1.0
    assert np.abs(x_adv.astype(np.float64) - x).max() <= eps + 1e-6


@pytest.mark.parametrize("eps", [0.0, 0.05, 0.25])
def test_every_attack_stays_in_unit_box_and_within_eps(mlp, data, eps):
    x, y = data.x_test[:200], data.y_test[:200]
    rng = np.random.default_rng(1)
    assert_in_box(A.fgsm(mlp, x, y, eps), x, eps)
    assert_in_box(A.pgd(mlp, x, y, eps, steps=5, random_start=True, rng=rng), x, eps)
    assert_in_box(A.targeted(mlp, x, (y + 1) % 10, eps, steps=5), x, eps)
    assert_in_box(A.random_noise(x, eps, rng), x, eps)
    if eps == 0:  # no budget, no change
        np.testing.assert_array_equal(A.pgd(mlp, x, y, 0.0, steps=3, rng=rng), x)


def test_fgsm_raises_the_loss_of_almost_every_digit(mlp, data):
    x, y = data.x_test[:500], data.y_test[:500]
    before = per_example_loss(mlp, x, y)
    after = per_example_loss(mlp, A.fgsm(mlp, x, y, 0.05), y)
    assert (after > before).mean() > 0.95
    assert after.mean() > 3 * before.mean()


def test_pgd_is_at_least_as_strong_as_fgsm_and_noise_is_weak(mlp, data):
    x, y = data.x_test[:500], data.y_test[:500]
    clean = (mlp.predict(x) == y).mean()
    f = A.attack_accuracy(mlp, x, y, "fgsm", 0.1)
    p = A.attack_accuracy(mlp, x, y, "pgd", 0.1, steps=10)
    n = A.attack_accuracy(mlp, x, y, "noise", 0.1)
    assert clean > 0.9
    assert f < 0.5 * clean  # far below: the expected size of the effect
    assert p <= f + 0.01
    assert n > clean - 0.05  # the same L-infinity size at random barely matters


def test_targeted_attack_reaches_its_target(mlp, data):
    x, y = data.x_test[:50], data.y_test[:50]
    target = (y + 3) % 10
    adv = A.targeted(mlp, x, target, eps=0.25, steps=40)
    assert (mlp.predict(adv) == target).mean() >= 0.9
    assert_in_box(adv, x, 0.25)


@pytest.mark.parametrize("start", ["blank", "noise"])
def test_fooling_images_reach_99_percent(mlp, start):
    res = A.fooling_images(mlp, np.arange(10), start, rng=np.random.default_rng(0))
    assert res.reached.all(), res.probs
    probs = mlp.predict_proba(res.images)
    assert (probs[np.arange(10), np.arange(10)] > 0.99).all()
    assert res.images.min() >= 0 and res.images.max() <= 1
    assert (res.steps < 500).all()


def test_robustness_curve_falls_with_eps_and_noise_is_far_less_harmful(mlp, data):
    eps = [0.0, 0.05, 0.1, 0.2]
    curve = A.robustness_curve(mlp, data.x_test[:600], data.y_test[:600], eps, pgd_steps=5, pgd_limit=300)
    assert curve.n == {"fgsm": 600, "pgd": 300, "noise": 600}
    for m, acc in curve.acc.items():
        assert acc.shape == (4,)
        assert np.all(np.diff(acc) <= 0.02), (m, acc)  # monotone, up to sampling noise
    assert curve.acc["fgsm"][0] == curve.acc["noise"][0]  # eps 0: clean accuracy
    assert curve.acc["fgsm"][-1] < 0.2
    assert curve.acc["noise"][2] > curve.acc["fgsm"][2] + 0.4


def test_template_identity_input_gradient_is_weighted_templates_minus_true_one():
    rng = np.random.default_rng(3)
    model = MLP.create((784, 10), "relu", "softmax", "cross_entropy", "normal", rng, dtype=np.float64)
    x = rng.uniform(0, 1, (20, 784))
    y = rng.integers(0, 10, 20)
    p = model.predict_proba(x)
    w = model.weights[0]  # column k = template of class k
    expected = p @ w.T - w[:, y].T  # sum_k p_k w_k - w_y, row by row
    np.testing.assert_allclose(model.input_gradient(x, y), expected, rtol=1e-12, atol=1e-12)
    e = A.template_explanation(model, x[0], int(y[0]))
    np.testing.assert_allclose(e.gradient, expected[0], rtol=1e-12, atol=1e-12)


def test_fgsm_direction_of_a_trained_template_network_is_runner_up_minus_true(template, data):
    agreements = []
    for i in range(20):
        x, y = data.x_test[i], int(data.y_test[i])
        e = A.template_explanation(template, x, y)
        assert e.runner_up != y
        assert e.runner_up == int(np.argsort(e.probs)[-2] if e.probs.argmax() == y else e.probs.argmax())
        agreements.append(e.sign_agreement)
    assert np.median(agreements) > 0.8
    with pytest.raises(ValueError):
        A.template_explanation(train_default_model(epochs=1).model, data.x_test[0], 0)


def test_attack_one_reports_what_the_page_shows(mlp, data):
    x, y = data.x_test[0], int(data.y_test[0])
    out = A.attack_one(mlp, x, y, "pgd", eps=0.2, steps=20)
    assert out.pred_before == y and out.fooled and out.pred_after != y
    assert out.linf == pytest.approx(np.abs(out.x_adv - x).max()) and out.linf <= 0.2 + 1e-6
    assert out.l2 == pytest.approx(np.linalg.norm(out.x_adv.astype(np.float64) - x), rel=1e-5)
    assert out.pred_noise == y  # the same-size random noise changes nothing
    tgt = (y + 5) % 10
    out_t = A.attack_one(mlp, x, y, "targeted", eps=0.25, steps=40, target=tgt)
    assert out_t.target == tgt and out_t.fooled == (out_t.pred_after == tgt)
    with pytest.raises(ValueError):
        A.attack_one(mlp, x, y, "targeted", eps=0.1)
    with pytest.raises(ValueError):
        A.fgsm(mlp, x[None], [y], -0.1)


def test_adversarial_training_makes_fgsm_less_effective(mlp, data):
    cfg = TrainConfig("momentum", 0.05, 32)
    rng = np.random.default_rng(0)
    plain = MLP.create(mlp.sizes, "relu", "softmax", "cross_entropy", "he", rng)
    for _ in Trainer(plain, data, cfg, rng).epochs(3):
        pass
    robust = A.train_adversarially(mlp, data, eps=0.1, epochs=3)
    x, y = data.x_test[:1000], data.y_test[:1000]
    assert robust.test_acc > 0.85
    assert A.attack_accuracy(robust.model, x, y, "fgsm", 0.1) > A.attack_accuracy(plain, x, y, "fgsm", 0.1) + 0.25


def test_figure_builders_show_what_was_computed(mlp, template, data):
    from nnviz.plots.attacks import attack_figure, robustness_figure, template_figure

    x, y = data.x_test[0], int(data.y_test[0])
    out = A.attack_one(mlp, x, y, "fgsm", eps=0.1)
    fig = attack_figure(out, eps=0.1)
    heatmaps = [t for t in fig.data if t.type == "heatmap"]
    bars = [t for t in fig.data if t.type == "bar"]
    assert len(heatmaps) == 4 and len(bars) == 3
    assert heatmaps[1].zmin == -0.1 and heatmaps[1].zmax == 0.1  # the change, centred at 0, full colour at eps
    np.testing.assert_allclose(np.asarray(bars[1].y), out.probs_after)
    titles = [a.text for a in fig.layout.annotations]
    assert titles[0].startswith(f"Original: {out.pred_before}") and titles[2].startswith(f"Adversarial: {out.pred_after}")
    assert ("FOOLED" in titles[4]) == out.fooled and f"{out.linf:.3f}" in titles[4]

    e = A.template_explanation(template, x, y)
    assert len(template_figure(e, x).data) == 5 and len(template_figure(e).data) == 4

    curve = A.robustness_curve(mlp, data.x_test[:100], data.y_test[:100], [0.0, 0.1], pgd_steps=2, pgd_limit=50)
    fig = robustness_figure([curve, curve], ["before", "after"], mark_eps=0.1)
    assert len(fig.data) == 6 and sum(t.showlegend for t in fig.data) == 3
    np.testing.assert_allclose(np.asarray(fig.data[0].y), curve.acc["fgsm"])
