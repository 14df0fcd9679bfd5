"""The race's figures: loss against forward passes (log) and seconds, and the best individuals."""
import numpy as np
import pytest

from nnviz.engine.training import EpochStats
from nnviz.plots.playground import dataset, population_spec, race_curve_spec


def _history(n_steps, per_step, seconds, start=1.0, test=True):
    return [EpochStats(e, start / (e + 1), start / (e + 1) * 1.1 if test else float("nan"), 0.5, 0.5, seconds, 0,
                       True, e * per_step, e * seconds) for e in range(n_steps + 1)]


def test_race_curves_put_both_methods_on_one_chart():
    series = {"backprop": _history(5, 150, 0.01), "ga": _history(5, 15_000, 0.02)}
    names = {"backprop": "Backprop", "ga": "Genetic algorithm"}
    spec = race_curve_spec(series, names, "forward_passes", marker_epoch=3)
    rows = dataset(spec, "curve")
    assert {r["method"] for r in rows} == {"Backprop", "Genetic algorithm"}
    assert min(r["x"] for r in rows) == 150  # the start (0 forward passes) has no place on a log axis
    assert max(r["x"] for r in rows if r["method"] == "Genetic algorithm") == 75_000
    assert rows[0]["loss"] == pytest.approx(1.0 / 2 * 1.1)  # the test loss
    assert spec["layer"][0]["encoding"]["x"]["scale"]["type"] == "log"
    assert [(m["method"], m["x"]) for m in dataset(spec, "marks")] == [("Backprop", 450), ("Genetic algorithm", 45_000)]
    by_time = race_curve_spec(series, names, "total_seconds", legend=False)
    assert len(dataset(by_time, "curve")) == 12 and min(r["x"] for r in dataset(by_time, "curve")) == 0
    assert by_time["layer"][0]["encoding"]["color"]["legend"] is None
    no_test = race_curve_spec({"backprop": _history(2, 10, 0.1, test=False)}, names)
    assert no_test["layer"][0]["encoding"]["y"]["axis"]["title"] == "training loss"
    with pytest.raises(ValueError):
        race_curve_spec(series, names, "epochs")


def test_the_spec_stays_put_while_the_data_changes():
    names = {"backprop": "Backprop", "es": "Evolution strategies"}
    a = race_curve_spec({"backprop": _history(2, 1, 1), "es": _history(2, 9, 1)}, names)
    b = race_curve_spec({"backprop": _history(9, 1, 1), "es": _history(9, 9, 1)}, names)
    a.pop("datasets"), b.pop("datasets")
    assert a == b


def test_population_row_draws_each_individual_with_its_caption():
    rng = np.random.default_rng(0)
    probs = [rng.dirichlet([1, 1], (40, 40)) for _ in range(4)]
    spec = population_spec(probs, ["#1 loss 0.2", "#2 loss 0.3", "#3 loss 0.3", "#4 loss 0.4"], present=True)
    pictures = dataset(spec, "pictures")
    assert [p["i"] for p in pictures] == [0, 1, 2, 3]
    assert all(p["url"].startswith("data:image/png;base64,") for p in pictures)
    assert pictures[0]["caption"] == "#1 loss 0.2"
    assert len({p["url"] for p in pictures}) == 4
