"""The trainer: a generator of immutable stats that can pause, resume, report mid-epoch and stop on NaN."""
import dataclasses

import numpy as np
import pytest

from nnviz.data.toy import make_dataset
from nnviz.engine.model import MLP
from nnviz.engine.training import EpochStats, TrainConfig, Trainer, TrainingDiverged


def _setup(seed=0, optimizer="sgd", lr=0.3, batch_size=10, activation="tanh", output="softmax",
           loss="cross_entropy", dtype=np.float32, n=100):
    rng = np.random.default_rng(seed)
    data = make_dataset("moons", n, 0.2, 0.2, rng)  # 80 train / 20 test
    model = MLP.create((2, 6, 2), activation, output, loss, "glorot", rng, dtype=dtype)
    return Trainer(model, data, TrainConfig(optimizer, lr, batch_size), rng)


def _without_seconds(stats):
    return [dataclasses.replace(s, seconds=0.0, total_seconds=0.0) for s in stats]


def _weights(model):
    return [p.copy() for p in model.params()]


def test_yields_immutable_epoch_stats():
    trainer = _setup()
    stats = list(trainer.epochs(3))
    assert [s.epoch for s in stats] == [1, 2, 3]
    assert all(isinstance(s, EpochStats) and s.end_of_epoch for s in stats)
    assert all(s.samples_seen == 80 and s.seconds >= 0 for s in stats)
    assert all(0 <= s.train_acc <= 1 and 0 <= s.test_acc <= 1 and np.isfinite(s.train_loss) for s in stats)
    with pytest.raises(dataclasses.FrozenInstanceError):
        stats[0].test_acc = 1.0
    assert trainer.history == stats
    assert set(stats[0].as_dict()) >= {"epoch", "train_loss", "test_loss", "train_acc", "test_acc", "seconds"}


def test_pause_is_not_pulling_and_resume_continues_the_same_run():
    paused = _setup()
    gen = paused.epochs()  # forever
    first = [next(gen), next(gen)]
    frozen = _weights(paused.model)
    # While nobody pulls, nothing moves (the UI's pause).
    assert all(np.array_equal(a, b) for a, b in zip(frozen, _weights(paused.model)))
    third = next(gen)
    assert third.epoch == 3
    # An uninterrupted run from the same seed is the same run.
    straight = _setup()
    expected = list(straight.epochs(3))
    assert _without_seconds(first + [third]) == _without_seconds(expected)
    assert all(np.array_equal(a, b) for a, b in zip(_weights(paused.model), _weights(straight.model)))
    # A new generator on the same trainer also continues where the old one stopped.
    assert next(paused.epochs(1)).epoch == 4


def test_every_batches_yields_fractional_epochs():
    trainer = _setup(batch_size=10)  # 80 training points: 8 batches an epoch
    stats = list(trainer.epochs(2, every_batches=3))
    assert [s.epoch for s in stats] == pytest.approx([3 / 8, 6 / 8, 1, 1 + 3 / 8, 1 + 6 / 8, 2])
    assert [s.end_of_epoch for s in stats] == [False, False, True] * 2
    assert [s.samples_seen for s in stats] == [30, 60, 80] * 2
    assert len(trainer.history) == 2  # history keeps whole epochs only
    # Reporting mid-epoch does not change the run.
    plain = _setup(batch_size=10)
    assert _without_seconds(list(plain.epochs(2))) == _without_seconds([s for s in stats if s.end_of_epoch])


def test_same_seed_same_run_other_seed_other_run():
    a, b, c = _setup(seed=5), _setup(seed=5), _setup(seed=6)
    ra, rb, rc = (list(t.epochs(3)) for t in (a, b, c))
    assert _without_seconds(ra) == _without_seconds(rb)
    assert all(np.array_equal(p, q) for p, q in zip(_weights(a.model), _weights(b.model)))
    assert _without_seconds(ra) != _without_seconds(rc)


def test_training_learns():
    trainer = _setup(optimizer="adam", lr=0.05)
    stats = list(trainer.epochs(30))
    assert stats[-1].train_loss < 0.5 * stats[0].train_loss
    assert stats[-1].train_acc > 0.85


def _diverging(optimizer="sgd"):
    # Linear layers with a quadratic loss have nothing to saturate: a huge rate overflows to inf/NaN.
    return _setup(optimizer=optimizer, lr=0.01, activation="linear", output="linear", loss="quadratic")


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_divergence_raises_a_clear_error_and_rolls_back(optimizer):
    trainer = _diverging(optimizer)
    good = next(trainer.epochs(1))
    before = _weights(trainer.model)
    trainer.lr = 1e30 if optimizer == "adam" else 1e6
    with pytest.raises(TrainingDiverged) as err:
        for _ in trainer.epochs(3):
            pass
    message = str(err.value)
    assert "diverged" in message and "NaN or infinite" in message and "learning rate" in message
    assert "\n" not in message
    assert trainer.model.is_finite()
    assert all(np.array_equal(a, b) for a, b in zip(before, _weights(trainer.model)))
    assert trainer.history == [good] and trainer.epoch == 1
    # Lower the rate and go on: the same trainer continues from the rolled-back weights.
    trainer.lr = 0.01
    after = next(trainer.epochs(1))
    assert after.epoch == 2 and np.isfinite(after.train_loss) and trainer.model.is_finite()


def test_divergence_in_the_first_epoch_restores_the_initial_weights():
    trainer = _diverging()
    initial = _weights(trainer.model)
    trainer.lr = 1e6
    with pytest.raises(TrainingDiverged, match="epoch 1"):
        trainer.train_epoch()
    assert all(np.array_equal(a, b) for a, b in zip(initial, _weights(trainer.model)))


def test_lr_change_between_epochs_takes_effect():
    """Full-batch SGD: one epoch is one step w <- w - lr * grad(w), so the step shows the rate used."""
    trainer = _setup(batch_size=80, dtype=np.float64, lr=0.1)
    model, data = trainer.model, trainer.data
    for lr in (0.1, 0.7, 0.02):
        trainer.lr = lr
        w = _weights(model)
        g = model.gradients(data.x_train.astype(np.float64), model.targets(data.y_train))
        expected = [p - lr * q for p, q in zip(w, g.weights + g.biases)]
        trainer.train_epoch()
        for e, p in zip(expected, _weights(model)):
            np.testing.assert_allclose(p, e, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="positive"):
        trainer.lr = 0.0


def test_bad_batch_size_is_refused():
    rng = np.random.default_rng(0)
    data = make_dataset("moons", 40, 0.2, 0.5, rng)
    model = MLP.create((2, 2), rng=rng)
    with pytest.raises(ValueError, match="batch_size"):
        Trainer(model, data, TrainConfig(batch_size=0), rng)


def test_no_training_points_is_refused_before_any_division_by_zero():
    d = make_dataset("moons", 20, 0.1, 0.5, np.random.default_rng(0))
    empty = dataclasses.replace(d, x_train=d.x_train[:0], y_train=d.y_train[:0])
    model = MLP.create((2, 4, 2), "tanh", "softmax", "cross_entropy", "glorot", np.random.default_rng(0))
    with pytest.raises(ValueError, match="no training points"):
        Trainer(model, empty, TrainConfig(), np.random.default_rng(0))
