"""The class challenge's rating on real trained networks (no mocks): the strong attack against an
independent PGD written here, the logit-scaling trap, determinism, and the break round's rules."""
import numpy as np
import pytest

from nnviz.classroom import evaluate as E
from nnviz.data.mnist import private_digits, public_digits
from nnviz.engine.model import MLP, Architecture
from nnviz.engine.threads import BlasLimit
from nnviz.engine.training import TrainConfig, Trainer
from nnviz.lab import attacks as A
from nnviz.lab.pretrained import train_default_model

EPS = 0.1


@pytest.fixture(scope="module", autouse=True)
def one_blas_thread():
    """One BLAS thread, as the rating worker runs: the shared cores stay usable."""
    with BlasLimit(1):
        yield


def scaled_logits(model: MLP, factor: float = 1000.0) -> MLP:
    """A copy whose logits are factor times larger: the same decisions, a saturated output."""
    m = model.copy()
    m.weights[-1] *= factor
    m.biases[-1] *= factor
    return m


@pytest.fixture(scope="module")
def default():
    return train_default_model().model  # [784, 100, 10] ReLU, ~96%


@pytest.fixture(scope="module")
def sigmoid_net():
    """Nielsen-style [784, 30, 10]: sigmoid everywhere, quadratic cost, N(0, 1) init; 2 epochs."""
    rng = np.random.default_rng(0)
    model = MLP.create((784, 30, 10), "sigmoid", "sigmoid", "quadratic", "normal", rng)
    for _ in Trainer(model, public_digits(), TrainConfig("sgd", 3.0, 10), rng).epochs(2):
        pass
    return model


@pytest.fixture(scope="module")
def rating(default):
    return E.rate(default, EPS, seed=0)


def independent_pgd_robust(model: MLP, x, y, eps, steps=100, step=0.01, restarts=2, seed=0) -> float:
    """Plain cross-entropy PGD from model.input_gradient, written out again: the first restart at
    the clean digit, the second uniform in the box. A digit is robust if right after every one."""
    rng = np.random.default_rng(seed)
    robust = model.predict(x) == y
    for r in range(restarts):
        xa = x + rng.uniform(-eps, eps, x.shape).astype(np.float32) if r else x.copy()
        xa = np.clip(np.clip(xa, x - eps, x + eps), 0, 1)
        for _ in range(steps):
            xa = xa + step * np.sign(model.input_gradient(xa, y))
            xa = np.clip(np.clip(xa, x - eps, x + eps), 0, 1)
        robust &= model.predict(xa) == y
    return float(robust.mean())


# ----- the rating --------------------------------------------------------------------------
def test_default_model_agrees_with_an_independent_pgd(default, rating):
    x, y = private_digits()
    independent = independent_pgd_robust(default, x, y, EPS)
    assert rating.n_robust == rating.n_clean == len(y) == 1000  # all private digits are attacked
    assert rating.robust_acc <= independent + 0.01
    assert abs(rating.robust_acc - independent) <= 0.01 + 1e-9  # 10 digits of 1,000
    assert rating.clean_acc == pytest.approx(float((default.predict(x) == y).mean()))


def test_logit_scaling_is_no_defence(default, rating):
    scaled = scaled_logits(default)
    r = E.rate(scaled, EPS, seed=0)
    assert r.clean_acc == rating.clean_acc
    assert r.robust_acc <= rating.robust_acc
    # The trap is real: cross-entropy PGD alone sees zero gradients on the scaled copy.
    x, y = private_digits()
    x, y = x[:200], y[:200]
    ce_only = A.attack_accuracy(scaled, x, y, "pgd", EPS, steps=20)
    assert ce_only > r.robust_acc + 0.5
    assert A.attack_accuracy(default, x, y, "pgd", EPS, steps=20) < ce_only - 0.5


def test_sigmoid_network_is_rated_on_its_pre_sigmoid_logits(sigmoid_net):
    r = E.rate(sigmoid_net, EPS, seed=0)
    assert r.clean_acc > 0.8
    assert r.robust_acc <= r.clean_acc
    assert r.robust_acc < 0.2  # an undefended network: PGD at 0.1 breaks nearly everything
    assert E.rate(scaled_logits(sigmoid_net), EPS, seed=0).robust_acc <= r.robust_acc


def test_rating_is_deterministic_and_leaves_the_model_alone(default, rating):
    before = [p.copy() for p in default.params()]
    again = E.rate(default, EPS, seed=0)
    figures = lambda r: (r.clean_acc, r.robust_acc, r.n_clean, r.n_robust)  # noqa: E731
    assert figures(again) == figures(rating)
    assert again.seconds > 0
    for p, q in zip(default.params(), before):
        np.testing.assert_array_equal(p, q)


def test_robust_is_at_most_clean_and_equal_at_eps_zero(default, rating):
    assert 0 <= rating.robust_acc <= rating.clean_acc
    zero = E.rate(default, 0.0, seed=0)
    assert zero.robust_acc == zero.clean_acc == rating.clean_acc


def test_rate_refuses_a_network_that_is_not_a_digit_network():
    with pytest.raises(E.ChallengeError, match=r"784 pixels and give 10 outputs"):
        E.rate(MLP.create((784, 5), rng=np.random.default_rng(0)), EPS, seed=0)
    with pytest.raises(ValueError, match="eps"):
        E.rate(MLP.create((784, 10), rng=np.random.default_rng(0)), -0.1, seed=0)


# ----- the challenge digits ------------------------------------------------------------------
def test_challenge_digits_are_private_two_of_each_class_and_fixed_by_seed():
    x, y = E.challenge_digits(7)
    assert x.shape == (E.CHALLENGE_SIZE, 784) and x.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y, minlength=10).tolist() == [2] * 10
    assert not x.flags.writeable and not y.flags.writeable
    public = {row.tobytes() for row in public_digits().x_test}
    assert not any(row.tobytes() in public for row in x)
    xp, yp = private_digits()
    private = {row.tobytes(): label for row, label in zip(xp, yp)}
    assert all(private[row.tobytes()] == label for row, label in zip(x, y))
    x2, y2 = E.challenge_digits(7)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(x, E.challenge_digits(8)[0])
    assert xp.flags.writeable is False  # private_digits' own arrays are untouched


# ----- checking an attack ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def challenge():
    return E.challenge_digits(0)


def test_validate_accepts_a_valid_attack_and_returns_a_float32_copy(challenge):
    x, _ = challenge
    x_adv = np.clip(x + EPS * np.where(np.arange(784) % 2, 1, -1), 0, 1).astype(np.float64)
    out = E.validate_adversarial(x_adv, x, EPS)
    assert out.dtype == np.float32 and out.shape == (20, 784)
    assert out is not x_adv and not np.shares_memory(out, x)
    np.testing.assert_array_equal(out, x_adv.astype(np.float32))
    E.validate_adversarial(x, x, EPS)  # no change at all is valid


@pytest.mark.parametrize("make, words", [
    (lambda x: x[:19], r"shape \(20, 784\); got \(19, 784\)"),
    (lambda x: x.reshape(20, 28, 28), r"shape \(20, 784\); got \(20, 28, 28\)"),
    (lambda x: x.ravel(), r"got \(15680,\)"),
    (lambda x: np.where(np.arange(x.size).reshape(x.shape) == 3, np.nan, x), "1 values that are not finite"),
    (lambda x: np.where(np.arange(784) == 3, np.inf, x), "not finite"),
    (lambda x: np.where(np.arange(784) == 3, -0.01, x), r"in \[0, 1\]"),
    (lambda x: np.where(np.arange(784) == 3, 1.01, x), r"in \[0, 1\]"),
    (lambda x: x.astype(str), "must be numbers"),
    (lambda x: x > 0.5, "must be numbers"),
    (lambda x: [[0.0, 1.0], [0.5]], "array of numbers"),
])
def test_validate_rejects_a_broken_attack_naming_the_problem(challenge, make, words):
    x, _ = challenge
    with pytest.raises(E.ChallengeError, match=words):
        E.validate_adversarial(make(x.copy()), x, EPS)


def test_validate_allows_eps_plus_rounding_but_no_more(challenge):
    x, _ = challenge
    pixel = np.unravel_index(np.argmin(x), x.shape)  # a black pixel: room to go up
    near = x.astype(np.float64)
    near[pixel] += EPS + 5e-5
    E.validate_adversarial(near, x, EPS)
    beyond = x.astype(np.float64)
    beyond[pixel] += EPS + 2e-4
    with pytest.raises(E.ChallengeError, match=r"changed by 0\.1002, more than the allowed eps 0\.1"):
        E.validate_adversarial(beyond, x, EPS)


def test_count_fooled_counts_exactly():
    """A hand-made network that says the class of its brightest pixel among pixels 0-9."""
    w = np.zeros((784, 10), np.float32)
    w[np.arange(10), np.arange(10)] = 1
    model = MLP(Architecture((784, 10)), [w], [np.zeros(10, np.float32)])
    y = np.array([0, 1, 2, 3, 4, 5])
    x = np.zeros((6, 784), np.float32)
    x[np.arange(6), y] = 1  # every digit right ...
    x[5, 5], x[5, 9] = 0.2, 0.6  # ... but the last one, wrong already
    x_adv = x.copy()
    x_adv[0, 7] = 1.0  # a tie with class 7 at index 0: argmax keeps class 0, not fooled
    x_adv[1, 7] = 1.0  # 1 vs 7 tie at index 1: still 1, not fooled
    x_adv[2, 2], x_adv[2, 8] = 0.7, 0.9  # fooled
    x_adv[3, 3], x_adv[3, 0] = 0.5, 0.6  # fooled
    x_adv[5, 5], x_adv[5, 9] = 0.0, 0.0  # was wrong: whatever it says now is not counted
    assert E.count_fooled(model, x_adv, x, y) == 2
    assert E.count_fooled(model, x, x, y) == 0


def test_attack_challenge_is_valid_and_fools_the_default_model(default, challenge):
    x, y = challenge
    x_adv = E.attack_challenge(default, x, y, EPS)
    assert x_adv.dtype == np.float32 and x_adv.shape == (20, 784)
    checked = E.validate_adversarial(x_adv, x, EPS)
    fooled = E.count_fooled(default, checked, x, y)
    right = int((default.predict(x) == y).sum())
    assert fooled >= 14 and fooled <= right
    np.testing.assert_array_equal(E.attack_challenge(default, x, y, EPS), x_adv)  # deterministic
    # The attack's digits that stand are the rating's robust ones: nothing fooled is missed by count_fooled.
    assert int((default.predict(checked) != y).sum()) == fooled + (20 - right)
