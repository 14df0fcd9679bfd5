"""The Playground learning by evolution, and the race against backprop (no Streamlit here)."""
from dataclasses import replace

import numpy as np
import pytest

from nnviz.engine.evolution import GeneticAlgorithm
from nnviz.engine.training import Trainer
from nnviz.lab.playground import (
    DEFAULT,
    METHODS,
    PlaygroundRun,
    RaceRun,
    from_query,
    new_run,
    sanitize,
    to_query,
)

RACE = replace(DEFAULT, method="race", hidden=(8, 8))


def _steps(run, n):
    """n steps exactly: one call may stop early when a frame's time budget runs out."""
    for _ in range(n):
        run.step(1)


def _params(model):
    return [p.copy() for p in model.params()]


def test_the_race_starts_both_runs_from_identical_weights_and_data():
    race = new_run(RACE)
    assert isinstance(race, RaceRun)
    bp, ga = race.backprop, race.rival
    assert isinstance(bp.trainer, Trainer) and isinstance(ga.trainer, GeneticAlgorithm)
    for a, b in zip(bp.model.params(), ga.model.params()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(bp.points.x_train, ga.points.x_train)
    assert bp.initial.test_loss == ga.initial.test_loss
    # ... and they are two models: learning one leaves the other alone
    before = _params(ga.model)
    bp.step(1)
    for a, b in zip(before, ga.model.params()):
        np.testing.assert_array_equal(a, b)


def test_the_race_steps_both_runs_together_and_counts_their_compute():
    race = new_run(replace(RACE, rival="es", population=40, speed=2))
    _steps(race, 3)
    assert race.epoch == race.backprop.epoch == race.rival.epoch == 3
    n = len(race.points.y_train)
    assert race.backprop.history[-1].forward_passes == 3 * n
    assert race.rival.history[-1].forward_passes == 3 * 40 * n
    assert race.rival.history[-1].total_seconds > 0
    assert race.nearest(2) == 2


@pytest.mark.parametrize("method", ["ga", "es"])
def test_evolution_learns_moons_on_the_playground(method):
    run = new_run(replace(DEFAULT, method=method, hidden=(8, 8)))
    assert isinstance(run, PlaygroundRun) and run.evolving
    assert run.history[0].test_acc < 0.9
    _steps(run, 60)
    assert run.history[-1].test_acc >= 0.95
    # rewind: snapshots of the model per generation
    assert run.model_at(0).params()[0].tolist() == run.snapshots.model_at(0, run.model).params()[0].tolist()
    assert not np.array_equal(run.model_at(0).weights[0], run.model.weights[0])


def test_evolution_settings_apply_live_and_the_method_resets():
    state = replace(DEFAULT, method="ga", population=20)
    run = new_run(state)
    _steps(run, 2)
    faster = replace(state, population=50, sigma=0.3, elite=0.2)
    assert not run.needs_reset(faster)
    run.update(faster)
    assert len(run.trainer.population) == 50 and run.trainer.sigma == 0.3
    run.step(1)
    assert run.epoch == 3
    assert run.needs_reset(replace(faster, method="es"))
    race = new_run(RACE)
    assert race.needs_reset(replace(RACE, rival="es")) and race.needs_reset(replace(RACE, method="ga"))
    assert not race.needs_reset(replace(RACE, population=50, lr=0.3))
    race.update(replace(RACE, population=50, lr=0.3))
    assert len(race.rival.trainer.population) == 50 and race.backprop.trainer.lr == 0.3


def test_a_frame_of_evolution_has_a_time_budget(monkeypatch):
    import nnviz.lab.playground as lab
    run = new_run(replace(DEFAULT, method="ga", population=20))
    race = new_run(replace(RACE, population=20))
    monkeypatch.setattr(lab, "EVOLUTION_FRAME_SECONDS", 0.0)
    run.step(50)
    race.step(50)
    assert run.epoch == 1 and race.backprop.epoch == race.rival.epoch == 1  # at least one, then stop
    backprop = new_run(DEFAULT)
    backprop.step(5)
    assert backprop.epoch == 5  # backprop's epochs are cheap and exact


def test_every_evolution_setting_is_in_the_url():
    state = replace(DEFAULT, method="race", rival="es", population=200, sigma=0.05, elite=0.2)
    query = to_query(state)
    assert query == {"learn": "race", "rival": "es", "pop": "200", "sigma": "0.05", "elite": "0.2"}
    assert from_query(query) == state
    assert sanitize(state) == state
    assert set(METHODS) == {"backprop", "ga", "es", "race"}


def test_junk_in_the_url_falls_back_or_is_clamped():
    state = from_query({"learn": "magic", "rival": "<b>x</b>", "pop": "1e9", "sigma": "-3", "elite": "nan"})
    assert (state.method, state.rival) == ("backprop", "ga")
    assert state.population == 500 and state.sigma == 0.001 and state.elite == DEFAULT.elite
    assert from_query({"pop": "1"}).population == 4


def test_a_diverging_race_reports_which_method():
    race = new_run(replace(RACE, activation="linear", lr=10.0))
    with pytest.raises(ArithmeticError):
        race.step(20)
    assert race.diverged.startswith("Backprop: Training diverged")
    race.diverged = None
    assert race.diverged is None
